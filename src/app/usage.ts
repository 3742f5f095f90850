import { monthOfDay, type DayClock } from '../core/pacific-day.js';
import type { Tenant } from '../core/types.js';
import { ValidationError } from '../errors.js';
import { picoToMicros } from './leaser.js';
import type { DaySelection, UsageStore } from './stores.js';
import { budgetUse, figuresJson, limitUses, splitFigures, usageReport, type BudgetUse, type LimitUse, type SplitFigures, type TenantCounters, type UsageReport } from './usage-report.js';

/** Day and month counters to put back for one tenant. */
export interface CounterRestore {
  tenantId: string;
  dayId: string;
  monthId: string;
  day: TenantCounters['day'];
  monthCostMicros: number;
}

/**
 * Tenants' live counters, as the admission scripts keep them (Redis):
 * read many at once; restore day and month counters that were lost, never
 * lowering one that exists.
 */
export interface TenantCounterPort {
  read(tenantIds: readonly string[], dayId: string, monthId: string): Promise<Map<string, TenantCounters>>;
  /** sets only absent fields; answers how many were set */
  restore(entries: readonly CounterRestore[]): Promise<number>;
}

/** One tenant as its usage page, `status` and the dashboard show it. */
export interface TenantStatus {
  tenantId: string;
  weight: number;
  day: string;
  month: string;
  today: SplitFigures;
  thisMonth: SplitFigures;
  /** the limits it has, with what is used now (window, day, queue) and what is left */
  limits: LimitUse[];
  budget: BudgetUse | null;
}

const split = (s: SplitFigures): Record<string, unknown> => ({ ...figuresJson(s.total), own: figuresJson(s.own), central: figuresJson(s.central) });

/** A tenant's standing as JSON: usage today and this month, each limit with what is left, the budget. */
export function tenantStatusJson(s: TenantStatus): Record<string, unknown> {
  return {
    tenantId: s.tenantId,
    weight: s.weight,
    day: s.day,
    month: s.month,
    today: split(s.today),
    thisMonth: split(s.thisMonth),
    limits: Object.fromEntries(s.limits.map((l) => [l.limit, { limit: l.value, used: l.used, left: l.left }])),
    budget: s.budget,
  };
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const MAX_RANGE_DAYS = 366;

/** The days of a billing month: a calendar month of Pacific days, or thirty simulated days ('m<n>'). */
export function daysOfMonth(monthId: string): DaySelection {
  if (/^\d{4}-\d{2}$/.test(monthId)) return { from: `${monthId}-01`, to: `${monthId}-31` };
  const n = /^m(\d+)$/.exec(monthId)?.[1];
  if (n === undefined) return { days: [monthId] };
  return { days: Array.from({ length: 30 }, (_, i) => `d${Number(n) * 30 + i}`) };
}

/**
 * A usage query from a person or a client: `from` and `to` are Pacific days
 * (YYYY-MM-DD, inclusive, at most a year apart); both absent: today.
 * Every problem is listed at once.
 */
export function parseUsageQuery(input: { tenant?: unknown; from?: unknown; to?: unknown }, today: string): { tenantId?: string; days: DaySelection } {
  const problems: string[] = [];
  const text = (v: unknown, name: string): string | undefined => {
    if (v === undefined || v === '') return undefined;
    if (typeof v !== 'string') problems.push(`${name}: must be a string`);
    return typeof v === 'string' ? v : undefined;
  };
  const tenantId = text(input.tenant, 'tenant');
  const from = text(input.from, 'from');
  const to = text(input.to, 'to');
  const isDay = (d: string): boolean => DATE.test(d) && !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d);
  for (const [name, d] of [['from', from], ['to', to]] as const) if (d !== undefined && !isDay(d)) problems.push(`${name}: must be a day as YYYY-MM-DD, got "${d}"`);
  if ((from === undefined) !== (to === undefined)) problems.push(`${from === undefined ? 'from' : 'to'}: give both from and to, or neither (today)`);
  if (from && to && isDay(from) && isDay(to)) {
    const span = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000;
    if (span < 0) problems.push(`to: ${to} is before from ${from}`);
    if (span >= MAX_RANGE_DAYS) problems.push(`to: at most ${MAX_RANGE_DAYS} days at once`);
  }
  if (problems.length) throw new ValidationError('invalid usage query', problems);
  const days: DaySelection = from && to ? { from, to } : { days: [today] };
  return { ...(tenantId !== undefined ? { tenantId } : {}), days };
}

export interface UsageDeps {
  store: Pick<UsageStore, 'tenantDays' | 'tenantTotals' | 'tenantCosts'>;
  counters: TenantCounterPort;
  day: DayClock;
  clock: () => number;
}

/** Whether a tenant has anything the live counters measure against. */
const measured = (t: Tenant): boolean => Boolean(t.settings && (Object.keys(t.settings.limits).length > 0 || t.settings.budget));

/**
 * The usage and cost use case: reports per day and model from the stored
 * daily totals (exact), each tenant's standing against its limits and
 * budget from the live counters, and putting those counters back when Redis
 * lost them.
 */
export function createUsage(deps: UsageDeps) {
  const today = (): { day: string; month: string } => {
    const day = deps.day.dayId(deps.clock());
    return { day, month: monthOfDay(day) };
  };

  /** Totals per tenant on some days, own and central apart. */
  const totalsByTenant = async (days: DaySelection): Promise<Map<string, SplitFigures>> => {
    const rows = await deps.store.tenantTotals(days);
    const by = new Map<string, typeof rows>();
    for (const r of rows) by.set(r.tenantId, [...(by.get(r.tenantId) ?? []), r]);
    return new Map([...by].map(([id, rs]) => [id, splitFigures(rs)]));
  };

  return {
    today,
    async report(q: { tenantId?: string; days: DaySelection }): Promise<UsageReport> {
      return usageReport(q.tenantId ?? null, q.days, await deps.store.tenantDays(q));
    },

    /** Each tenant's usage today and this month, limits and budget (limits only for tenants that have some). */
    async tenants(tenants: readonly Tenant[]): Promise<TenantStatus[]> {
      const { day, month } = today();
      const [daily, monthly, counters] = await Promise.all([
        totalsByTenant({ days: [day] }),
        totalsByTenant(daysOfMonth(month)),
        deps.counters.read(tenants.filter(measured).map((t) => t.id), day, month),
      ]);
      const none = splitFigures([]);
      return tenants.map((t) => {
        const c = counters.get(t.id);
        return {
          tenantId: t.id,
          weight: t.settings?.weight ?? 1,
          day,
          month,
          today: daily.get(t.id) ?? none,
          thisMonth: monthly.get(t.id) ?? none,
          limits: c ? limitUses(t.settings, c) : [],
          budget: c ? budgetUse(t.settings, c) : null,
        };
      });
    },

    /** What each tenant has cost to date, picodollars. */
    costs: async (): Promise<Map<string, bigint>> => new Map((await deps.store.tenantCosts()).map((r) => [r.tenantId, r.costPico])),

    /**
     * After Redis lost its data, the day's and the month's counters start
     * from the stored totals instead of zero; counters that exist are left
     * alone. Answers how many counter fields were set.
     */
    async restoreCounters(): Promise<number> {
      const { day, month } = today();
      const [daily, monthly] = await Promise.all([totalsByTenant({ days: [day] }), totalsByTenant(daysOfMonth(month))]);
      const entries: CounterRestore[] = [...new Set([...daily.keys(), ...monthly.keys()])].map((tenantId) => {
        const d = daily.get(tenantId);
        return {
          tenantId,
          dayId: day,
          monthId: month,
          day: { req: d?.total.requests ?? 0, tok: d?.total.totalTokens ?? 0, creq: d?.central.requests ?? 0, ctok: d?.central.totalTokens ?? 0 },
          monthCostMicros: picoToMicros(monthly.get(tenantId)?.total.costPico ?? 0n),
        };
      });
      return deps.counters.restore(entries);
    },
  };
}

export type Usage = ReturnType<typeof createUsage>;
