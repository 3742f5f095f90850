import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UsageEvent } from '../../src/app/ports.js';
import { migrateDatabase, openDatabase, type Database } from '../../src/adapters/postgres/db.js';
import { activeExclusions, clearExclusion, deleteExpiredExclusions, upsertExclusion } from '../../src/adapters/postgres/exclusions-repo.js';
import { fleetVersion, loadFleet } from '../../src/adapters/postgres/fleet-repo.js';
import { refundRpd, reserveRpd, rpdUsage } from '../../src/adapters/postgres/ledger-repo.js';
import { recordLearnedLimit } from '../../src/adapters/postgres/limits-repo.js';
import { deleteUsageBefore, recordUsage, usageTotals } from '../../src/adapters/postgres/usage-repo.js';
import { createTestDatabase } from '../helpers/postgres.js';

/** One suite, both drivers: the repositories must behave the same on Postgres and on PGlite. */
const drivers: Array<{ name: string; open: () => Promise<{ db: Database; close: () => Promise<void> }> }> = [
  {
    name: 'postgres',
    open: async () => {
      const t = await createTestDatabase();
      return { db: t.handle.db, close: t.drop };
    },
  },
  {
    name: 'pglite',
    open: async () => {
      const dir = await mkdtemp(join(tmpdir(), 'qf-pglite-'));
      const h = await openDatabase({ dataDir: dir });
      await migrateDatabase(h);
      return { db: h.db, close: async () => (await h.close(), await rm(dir, { recursive: true, force: true })) };
    },
  },
];

const event = (over: Partial<UsageEvent>): UsageEvent => ({
  at: new Date('2025-06-01T12:00:00Z'),
  jobId: 'j1',
  tenantId: 'acme',
  thoughtsTokens: 0,
  cachedTokens: 0,
  day: '2025-06-01',
  costPico: 0n,
  keyId: 'k1',
  projectId: 'p1',
  model: 'm1',
  outcome: 'success',
  status: 200,
  promptTokens: 10,
  candidatesTokens: 5,
  totalTokens: 15,
  latencyMs: 100,
  central: false,
  ...over,
});

describe.each(drivers)('records on $name', ({ open }) => {
  let db: Database;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ db, close } = await open());
  });
  afterAll(async () => {
    await close();
  });

  it('keeps day exclusions until they expire, without touching the fleet version', async () => {
    const now = new Date('2025-06-01T12:00:00Z');
    const until = new Date('2025-06-02T07:00:00Z');
    await upsertExclusion(db, { projectId: 'p1', model: 'm1', reason: 'rate_day', until, detail: 'PerDay' });
    await upsertExclusion(db, { projectId: 'p1', model: 'm1', reason: 'rate_day', until, detail: 'PerDay' });
    expect(await fleetVersion(db)).toBe('0');
    expect(await activeExclusions(db, now)).toMatchObject([{ projectId: 'p1', model: 'm1', reason: 'rate_day', until, detail: 'PerDay' }]);
    expect(await activeExclusions(db, until)).toEqual([]);
    expect(await deleteExpiredExclusions(db, now)).toBe(0);
    expect(await deleteExpiredExclusions(db, until)).toBe(1);
  });

  it('model_not_found exclusions are the fleet\'s `unsupported` and bump the version once', async () => {
    const e = { projectId: 'p1', model: 'm-gone', reason: 'model_not_found', until: null, detail: '404' };
    await upsertExclusion(db, e);
    await upsertExclusion(db, e);
    expect(await fleetVersion(db)).toBe('1');
    expect((await loadFleet(db)).unsupported).toEqual([{ projectId: 'p1', model: 'm-gone' }]);
    expect(await activeExclusions(db, new Date('2100-01-01'))).toHaveLength(1);
    expect(await clearExclusion(db, { projectId: 'p1', model: 'm-gone' })).toBe(1);
    expect(await fleetVersion(db)).toBe('2');
    expect((await loadFleet(db)).unsupported).toEqual([]);
  });

  it('records learned limits, reporting (and announcing) only real changes', async () => {
    const l = { projectId: 'p1', model: 'm1', dimension: 'rpm' as const, value: 5 };
    expect(await recordLearnedLimit(db, l)).toBe(true);
    expect(await recordLearnedLimit(db, l)).toBe(false);
    expect(await recordLearnedLimit(db, { ...l, value: 4 })).toBe(true);
    expect(await fleetVersion(db)).toBe('4');
    expect((await loadFleet(db)).learned).toEqual([{ ...l, value: 4 }]);
  });

  it('reserves and refunds RPD within the limit', async () => {
    const s = { projectId: 'p1', model: 'm1', day: 'd' };
    expect(await reserveRpd(db, { ...s, limit: 1 })).toBe(1);
    expect(await reserveRpd(db, { ...s, limit: 1 })).toBeNull();
    await refundRpd(db, s);
    await refundRpd(db, s);
    expect(await rpdUsage(db, 'd')).toEqual([{ projectId: 'p1', model: 'm1', used: 0 }]);
  });

  it('writes usage in batches, sums it per key and trims old events', async () => {
    await recordUsage(db, []);
    await recordUsage(db, [
      event({}),
      event({ jobId: 'j2', outcome: 'rate_minute', status: 429, promptTokens: 0, candidatesTokens: 0, totalTokens: 0 }),
      event({ jobId: 'j3', keyId: 'k2', at: new Date('2025-05-01T00:00:00Z') }),
    ]);
    const totals = await usageTotals(db, { since: new Date('2025-06-01T00:00:00Z') });
    expect(totals).toEqual([
      { projectId: 'p1', model: 'm1', keyId: 'k1', requests: 2, successes: 1, promptTokens: 10, candidatesTokens: 5, totalTokens: 15 },
    ]);
    expect(await deleteUsageBefore(db, new Date('2025-06-01T00:00:00Z'))).toBe(1);
    expect(await usageTotals(db, { since: new Date(0) })).toHaveLength(1);
  });

  it('stores every field of a usage event as given (a cost past 2^53, a missing status, quotes in ids)', async () => {
    const e = event({ jobId: 'j-"quoted"\\', at: new Date('2025-07-01T01:02:03.456Z'), status: null, costPico: 9_007_199_254_740_993_123n, thoughtsTokens: 7, cachedTokens: 3, central: true, latencyMs: 42, day: '2025-06-30' });
    await recordUsage(db, [e]);
    const rows = await db.execute(sql`select job_id, at, status, cost_pico::text as cost, thoughts_tokens, cached_tokens, central, latency_ms, day, tenant_id, outcome from usage_events where job_id = ${e.jobId}`);
    const list = (Array.isArray(rows) ? rows : (rows as { rows: unknown[] }).rows) as Array<Record<string, unknown>>;
    expect(list).toHaveLength(1);
    const row = list[0] ?? {};
    expect(row).toMatchObject({ job_id: e.jobId, status: null, cost: '9007199254740993123', thoughts_tokens: 7, cached_tokens: 3, central: true, latency_ms: 42, day: '2025-06-30', tenant_id: 'acme', outcome: 'success' });
    expect(new Date(String(row.at instanceof Date ? row.at.toISOString() : row.at)).toISOString()).toBe('2025-07-01T01:02:03.456Z');
  });
});
