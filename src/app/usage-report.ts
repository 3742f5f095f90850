import { formatUsd, toCents } from '../core/money.js';
import { DEFAULT_TENANT_SETTINGS, TENANT_LIMITS, type TenantLimitName, type TenantSettings } from '../core/types.js';
import type { DaySelection, TenantDayUsage } from './stores.js';

/**
 * Usage and cost as tenants and operators read them, built from the
 * per-tenant daily totals (exact picodollars) and the live counters the
 * admission scripts keep. Pure: no clock, no I/O.
 */
export interface UsageFigures {
  requests: number;
  successes: number;
  promptTokens: number;
  candidatesTokens: number;
  thoughtsTokens: number;
  totalTokens: number;
  /** picodollars, exact */
  costPico: bigint;
}

export const ZERO_FIGURES: UsageFigures = Object.freeze({ requests: 0, successes: 0, promptTokens: 0, candidatesTokens: 0, thoughtsTokens: 0, totalTokens: 0, costPico: 0n });

export function addFigures(a: UsageFigures, b: UsageFigures): UsageFigures {
  return {
    requests: a.requests + b.requests,
    successes: a.successes + b.successes,
    promptTokens: a.promptTokens + b.promptTokens,
    candidatesTokens: a.candidatesTokens + b.candidatesTokens,
    thoughtsTokens: a.thoughtsTokens + b.thoughtsTokens,
    totalTokens: a.totalTokens + b.totalTokens,
    costPico: a.costPico + b.costPico,
  };
}

/** Totals of some rows: all of them, and own and central keys apart. */
export interface SplitFigures {
  total: UsageFigures;
  own: UsageFigures;
  central: UsageFigures;
}

export function splitFigures(rows: ReadonlyArray<UsageFigures & { central: boolean }>): SplitFigures {
  let own = ZERO_FIGURES;
  let central = ZERO_FIGURES;
  for (const r of rows) {
    if (r.central) central = addFigures(central, r);
    else own = addFigures(own, r);
  }
  return { total: addFigures(own, central), own, central };
}

export interface UsageReport extends SplitFigures {
  /** null: every tenant */
  tenantId: string | null;
  days: DaySelection;
  /** per tenant, day, model and kind of key, oldest day first */
  rows: TenantDayUsage[];
}

export function usageReport(tenantId: string | null, days: DaySelection, rows: TenantDayUsage[]): UsageReport {
  return { tenantId, days, rows, ...splitFigures(rows) };
}

/** Figures as JSON: money as an exact decimal USD string and whole cents (rounded half up), never a float. */
export function figuresJson(f: UsageFigures): Record<string, number | string> {
  const { costPico, ...counts } = f;
  return { ...counts, costUsd: formatUsd(costPico), costCents: Number(toCents(costPico)) };
}

export function reportJson(r: UsageReport): Record<string, unknown> {
  return {
    tenantId: r.tenantId,
    ...('days' in r.days ? { days: r.days.days } : { from: r.days.from, to: r.days.to }),
    rows: r.rows.map((row) => ({ tenantId: row.tenantId, day: row.day, model: row.model, keys: row.central ? 'central' : 'own', ...figuresJson(row) })),
    total: figuresJson(r.total),
    own: figuresJson(r.own),
    central: figuresJson(r.central),
  };
}

/** What the admission scripts count for a tenant (see adapters/redis/tenant-counters). */
export interface TenantCounters {
  window: { rpm: number; tpm: number };
  day: { req: number; tok: number; creq: number; ctok: number };
  monthCostMicros: number;
  queued: { jobs: number; bytes: number };
}

export interface LimitUse {
  limit: TenantLimitName;
  value: number;
  used: number;
  left: number;
}

const USED: Record<TenantLimitName, (c: TenantCounters) => number> = {
  rpm: (c) => c.window.rpm,
  tpm: (c) => c.window.tpm,
  rpd: (c) => c.day.req,
  tokensPerDay: (c) => c.day.tok,
  centralRpd: (c) => c.day.creq,
  centralTokensPerDay: (c) => c.day.ctok,
  queuedJobs: (c) => c.queued.jobs,
  queuedBytes: (c) => c.queued.bytes,
};

/** Each limit the tenant has, with what is used of it now and what is left. */
export function limitUses(settings: TenantSettings | undefined, c: TenantCounters): LimitUse[] {
  const limits = (settings ?? DEFAULT_TENANT_SETTINGS).limits;
  return TENANT_LIMITS.flatMap((limit) => {
    const value = limits[limit];
    if (value === undefined) return [];
    const used = Math.max(0, USED[limit](c));
    return [{ limit, value, used, left: Math.max(0, value - used) }];
  });
}

export interface BudgetUse {
  monthlyUsd: number;
  /** what the budget gate counts: each call's cost rounded up to a micro-dollar */
  spentUsd: number;
  leftUsd: number;
  /** percent of the budget spent */
  spentPct: number;
}

export function budgetUse(settings: TenantSettings | undefined, c: TenantCounters): BudgetUse | null {
  const budget = (settings ?? DEFAULT_TENANT_SETTINGS).budget;
  if (!budget) return null;
  const monthlyMicros = Math.round(budget.monthly * 1_000_000);
  const spent = c.monthCostMicros;
  return { monthlyUsd: budget.monthly, spentUsd: spent / 1e6, leftUsd: Math.max(0, monthlyMicros - spent) / 1e6, spentPct: monthlyMicros > 0 ? Math.round((spent / monthlyMicros) * 1000) / 10 : 100 };
}
