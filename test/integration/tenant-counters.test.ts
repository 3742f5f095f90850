import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UsageEvent } from '../../src/app/ports.js';
import { parseConfig } from '../../src/config.js';
import { monthOfDay } from '../../src/core/pacific-day.js';
import { scopeOf } from '../../src/core/scope.js';
import { createLogger } from '../../src/logger.js';
import { openSystem, type System } from '../../src/system.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { TEST_REDIS_URL, dropPrefix, testPrefix } from '../helpers/redis.js';

/**
 * After a Redis restart without persistence a tenant's day and month
 * counters would start from zero, letting it past its daily limits and its
 * budget. Workers put them back from the stored daily totals at start, only
 * where Redis has none.
 */
let db: TestDatabase;
let sys: System;
const prefix = testPrefix('tenant-counters');

beforeAll(async () => {
  db = await createTestDatabase();
  const config = parseConfig({ REDIS_URL: TEST_REDIS_URL, DATABASE_URL: db.url, QUOTAFLOW_PREFIX: prefix, QUOTAFLOW_SECRET: randomBytes(32).toString('hex'), LOG_LEVEL: 'silent' });
  sys = await openSystem(config, createLogger({ level: 'silent' }));
});
afterAll(async () => {
  await sys?.close();
  await db?.drop();
  await dropPrefix(prefix);
});

const event = (tenantId: string, day: string, o: { central?: boolean; tokens?: number; costPico?: bigint; outcome?: string } = {}): UsageEvent => ({
  at: new Date(),
  jobId: `job-${randomBytes(4).toString('hex')}`,
  tenantId,
  keyId: 'k1',
  projectId: 'p1',
  model: 'gemini-2.5-flash',
  outcome: o.outcome ?? 'success',
  status: 200,
  promptTokens: o.tokens ?? 100,
  candidatesTokens: 0,
  totalTokens: o.tokens ?? 100,
  thoughtsTokens: 0,
  cachedTokens: 0,
  latencyMs: 10,
  central: o.central ?? false,
  day,
  costPico: o.costPico ?? 0n,
});

const today = (): string => sys.day.dayId(Date.now());
const earlierDayOfMonth = (day: string): string => `${day.slice(0, 8)}${day.endsWith('-01') ? '02' : '01'}`;

describe('restoring tenant counters', () => {
  it('puts the day and month counters back from the stored totals when Redis has none', async () => {
    const day = today();
    const other = earlierDayOfMonth(day);
    await sys.stores.usage.write([
      event('acme', day, { tokens: 120, costPico: 2_500_000n }),
      event('acme', day, { tokens: 80, costPico: 1_000_000n, central: true }),
      event('acme', day, { tokens: 0, outcome: 'overloaded', central: true }),
      // an earlier day of the month: it counts towards the budget, not towards today
      event('acme', other, { tokens: 999, costPico: 7_000_000_001n }),
    ]);
    const set = await sys.restoreTenantCounters();
    expect(set).toBe(5);
    const t = sys.keys.tenant('acme');
    expect(await sys.redis.hgetall(t.day(day))).toEqual({ req: '3', tok: '200', creq: '2', ctok: '80' });
    // micro-dollars, rounded up as the budget gate counts them: (2.5 + 1 + 7000.000001) µUSD
    expect(await sys.redis.hget(t.month(monthOfDay(day)), 'cost')).toBe('7004');
    expect(await sys.redis.pttl(t.day(day))).toBeGreaterThan(0);
    expect(await sys.redis.pttl(t.month(monthOfDay(day)))).toBeGreaterThan(0);
  });

  it('never lowers a live counter, and fills only the fields that are missing', async () => {
    const day = today();
    await sys.stores.usage.write([event('beta', day, { tokens: 50, costPico: 9_000_000n }), event('beta', day, { tokens: 50 })]);
    const t = sys.keys.tenant('beta');
    // counted since Redis came back: a live counter already above the stored total, and one field missing
    await sys.redis.hset(t.day(day), 'req', 7);
    await sys.redis.hset(t.month(monthOfDay(day)), 'cost', 3);
    await sys.restoreTenantCounters();
    expect(await sys.redis.hgetall(t.day(day))).toEqual({ req: '7', tok: '100' });
    expect(await sys.redis.hget(t.month(monthOfDay(day)), 'cost')).toBe('3');
    // a second start changes nothing
    const before = await sys.redis.hgetall(sys.keys.tenant('acme').day(day));
    expect(await sys.restoreTenantCounters()).toBe(0);
    expect(await sys.redis.hgetall(sys.keys.tenant('acme').day(day))).toEqual(before);
  });

  it('the restored counters bind: a tenant whose stored day reached its rpd is refused by admission', async () => {
    const day = today();
    await sys.stores.usage.write(Array.from({ length: 4 }, () => event('gamma', day)));
    await sys.restoreTenantCounters();
    const gate = { tenantId: 'gamma', window: { rpm: 0, tpm: 0 }, rpd: 4, tokensPerDay: 0, centralRpd: 0, centralTokensPerDay: 0, budgetMicros: null, estTokens: 10, dayId: day, monthId: monthOfDay(day) };
    const group = { id: 'g', candidates: [{ scope: scopeOf('p1', 'gemini-2.5-flash'), limits: { rpm: 100, tpm: 100_000 } }] };
    const refused = await sys.limiter.admit('r1', { rpm: 1, tpm: 10 }, [group], { tenant: gate });
    expect(refused).toMatchObject({ admitted: false, refused: { limit: 'rpd', value: 4 } });
    const admitted = await sys.limiter.admit('r2', { rpm: 1, tpm: 10 }, [group], { tenant: { ...gate, rpd: 5 } });
    expect(admitted.admitted).toBe(true);
  });
});
