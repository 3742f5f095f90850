import { describe, expect, it } from 'vitest';
import type { DaySelection, TenantDayUsage, TenantUsageTotal } from '../../src/app/stores.js';
import { budgetUse, figuresJson, limitUses, reportJson, usageReport, type TenantCounters } from '../../src/app/usage-report.js';
import { createUsage, daysOfMonth, parseUsageQuery, type CounterRestore } from '../../src/app/usage.js';
import { usageCsv, usageTable } from '../../src/cli/commands/usage.js';
import { fixedLengthDay } from '../../src/core/pacific-day.js';
import { ValidationError } from '../../src/errors.js';

const row = (o: Partial<TenantDayUsage> & Pick<TenantDayUsage, 'tenantId' | 'day' | 'model' | 'central'>): TenantDayUsage => ({
  requests: 1,
  successes: 1,
  promptTokens: 10,
  candidatesTokens: 5,
  thoughtsTokens: 0,
  cachedTokens: 0,
  totalTokens: 15,
  costPico: 0n,
  ...o,
});

const counters = (o: Partial<TenantCounters> = {}): TenantCounters => ({ window: { rpm: 3, tpm: 300 }, day: { req: 7, tok: 700, creq: 2, ctok: 200 }, monthCostMicros: 850_000, queued: { jobs: 4, bytes: 4096 }, ...o });

describe('usage queries', () => {
  it('reads a Pacific day range; without one, today', () => {
    expect(parseUsageQuery({ tenant: 'acme', from: '2026-11-01', to: '2026-11-25' }, '2026-11-25')).toEqual({ tenantId: 'acme', days: { from: '2026-11-01', to: '2026-11-25' } });
    expect(parseUsageQuery({}, 'd123')).toEqual({ days: { days: ['d123'] } });
  });

  it('lists every problem at once, naming the field', () => {
    const err = (() => {
      try {
        parseUsageQuery({ tenant: 5, from: '2026-02-30', to: 'tomorrow' }, '2026-11-25');
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues).toEqual(['tenant: must be a string', 'from: must be a day as YYYY-MM-DD, got "2026-02-30"', 'to: must be a day as YYYY-MM-DD, got "tomorrow"']);
    expect(() => parseUsageQuery({ from: '2026-11-02', to: '2026-11-01' }, 'x')).toThrow(/before from/);
    expect(() => parseUsageQuery({ from: '2025-01-01', to: '2026-11-01' }, 'x')).toThrow(ValidationError);
    expect(() => parseUsageQuery({ from: '2026-11-01' }, 'x')).toThrow(ValidationError);
  });

  it('a billing month is its calendar days, or thirty simulated days', () => {
    expect(daysOfMonth('2026-11')).toEqual({ from: '2026-11-01', to: '2026-11-31' });
    const sim = daysOfMonth('m2') as { days: string[] };
    expect(sim.days).toHaveLength(30);
    expect([sim.days[0], sim.days[29]]).toEqual(['d60', 'd89']);
  });
});

describe('reports', () => {
  const rows = [
    row({ tenantId: 'acme', day: '2026-11-24', model: 'm', central: false, costPico: 12_345_678_901n }),
    row({ tenantId: 'acme', day: '2026-11-25', model: 'm', central: true, requests: 2, successes: 1, totalTokens: 30, costPico: 5_000_000_000n }),
  ];
  const report = usageReport('acme', { from: '2026-11-24', to: '2026-11-25' }, rows);

  it('totals own and central keys apart, money exact', () => {
    expect(report.own.costPico).toBe(12_345_678_901n);
    expect(report.central).toMatchObject({ requests: 2, successes: 1, costPico: 5_000_000_000n });
    expect(report.total).toMatchObject({ requests: 3, totalTokens: 45, costPico: 17_345_678_901n });
    expect(figuresJson(report.total)).toMatchObject({ costUsd: '0.017345678901', costCents: 2 });
    expect(reportJson(report)).toMatchObject({ tenantId: 'acme', from: '2026-11-24', to: '2026-11-25', rows: [{ keys: 'own' }, { keys: 'central', costUsd: '0.005' }] });
  });

  it('prints CSV rows and a table with totals', () => {
    expect(usageCsv(report).split('\n')).toEqual([
      'tenant,day,model,keys,requests,successes,prompt_tokens,candidates_tokens,thoughts_tokens,total_tokens,cost_usd',
      'acme,2026-11-24,m,own,1,1,10,5,0,15,0.012345678901',
      'acme,2026-11-25,m,central,2,1,10,5,0,30,0.005',
    ]);
    expect(usageTable(report)).toMatch(/^total\s+3\s+2\s+45\s+0\.017345678901$/m);
    expect(usageTable(usageReport(null, { days: ['d1'] }, []))).toContain('no usage recorded');
  });
});

describe("a tenant's standing", () => {
  it('shows only the limits it has, with what is used and left', () => {
    const settings = { weight: 2, limits: { rpm: 10, rpd: 5, centralRpd: 1, queuedJobs: 100 }, budget: null, pinModel: false };
    expect(limitUses(settings, counters())).toEqual([
      { limit: 'rpm', value: 10, used: 3, left: 7 },
      { limit: 'rpd', value: 5, used: 7, left: 0 },
      { limit: 'centralRpd', value: 1, used: 2, left: 0 },
      { limit: 'queuedJobs', value: 100, used: 4, left: 96 },
    ]);
    expect(limitUses(undefined, counters())).toEqual([]);
  });

  it('the budget: spent by the micro-dollar, what is left, the percentage', () => {
    expect(budgetUse({ weight: 1, limits: {}, budget: { monthly: 1, currency: 'USD' }, pinModel: false }, counters())).toEqual({ monthlyUsd: 1, spentUsd: 0.85, leftUsd: 0.15, spentPct: 85 });
    expect(budgetUse({ weight: 1, limits: {}, budget: { monthly: 0.5, currency: 'USD' }, pinModel: false }, counters())).toMatchObject({ leftUsd: 0, spentPct: 170 });
  });
});

describe('restoring counters', () => {
  it("puts back today's requests and tokens and the month's cost (rounded up to the micro-dollar) for every tenant with stored usage", async () => {
    const day = fixedLengthDay(1_000);
    const total = (tenantId: string, central: boolean, requests: number, totalTokens: number, costPico: bigint): TenantUsageTotal => ({ tenantId, central, requests, successes: requests, promptTokens: 0, candidatesTokens: 0, thoughtsTokens: 0, cachedTokens: 0, totalTokens, costPico });
    const asked: DaySelection[] = [];
    const restored: CounterRestore[] = [];
    const usage = createUsage({
      store: {
        tenantDays: async () => [],
        tenantCosts: async () => [],
        async tenantTotals(days) {
          asked.push(days);
          const today = 'days' in days && days.days.length === 1;
          return today ? [total('a', false, 3, 30, 1n), total('a', true, 1, 10, 1n)] : [total('a', false, 9, 90, 2_000_001n), total('b', false, 1, 1, 5n)];
        },
      },
      counters: {
        read: async () => new Map(),
        async restore(entries) {
          restored.push(...entries);
          return entries.length;
        },
      },
      day,
      clock: () => 45_500,
    });
    expect(await usage.restoreCounters()).toBe(2);
    expect(asked[0]).toEqual({ days: ['d45'] });
    expect((asked[1] as { days: string[] }).days[0]).toBe('d30');
    expect(restored).toEqual([
      { tenantId: 'a', dayId: 'd45', monthId: 'm1', day: { req: 4, tok: 40, creq: 1, ctok: 10 }, monthCostMicros: 3 },
      { tenantId: 'b', dayId: 'd45', monthId: 'm1', day: { req: 0, tok: 0, creq: 0, ctok: 0 }, monthCostMicros: 1 },
    ]);
  });
});
