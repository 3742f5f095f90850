import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rpdUsage } from '../../src/adapters/postgres/ledger-repo.js';
import { createPostgresStores } from '../../src/adapters/postgres/stores.js';
import { createRedisLimiter } from '../../src/adapters/redis/limiter.js';
import { createLeaser, type Leaser, type LeaseResult } from '../../src/app/leaser.js';
import type { Ledger, Limiter } from '../../src/app/ports.js';
import type { Candidate, CandidateGroup } from '../../src/core/lease-plan.js';
import type { DayClock } from '../../src/core/pacific-day.js';
import { DependencyError } from '../../src/errors.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { TEST_REDIS_URL, dropPrefix, testPrefix } from '../helpers/redis.js';

/**
 * RPD reserved in blocks into a pool in Redis, spent at admission: on real
 * Redis and Postgres, the pool never lets a day go past its limit, whatever
 * the concurrency, and what a lost pool held is stranded, never re-granted.
 */
const prefix = testPrefix('rpd-pool');
let db: TestDatabase;
let redis: Redis[];
let limiters: Limiter[];
let ledger: Ledger;
let today = 'd1';
const day: DayClock = { dayId: () => today, nextDayStartMs: (now) => now + 3_600_000 };
let n = 0;

const cand = (model: string, rpd: number): Candidate => ({
  keyId: `k-${model}`,
  projectId: 'p',
  model,
  central: true,
  scope: `p|${model}`,
  limits: { rpm: 1_000_000, tpm: 1_000_000_000, rpd, sources: { rpm: 'configured', tpm: 'configured', rpd: 'configured' } },
});
const groupOf = (c: Candidate): CandidateGroup[] => [{ id: `g-${c.model}`, model: c.model, central: true, priority: 1, candidates: [c] }];
const leaserOn = (i: number, l: Ledger = ledger): Leaser => createLeaser({ limiter: limiters[i % limiters.length] as Limiter, ledger: l, day });
const reserved = async (model: string, d = today): Promise<number> => (await rpdUsage(db.handle.db, d)).find((r) => r.model === model)?.used ?? 0;
const leased = (r: LeaseResult): boolean => r.kind === 'lease';

/** acquires one at a time until the scope waits; how many leases that took */
async function drain(leaser: Leaser, c: Candidate): Promise<number> {
  let got = 0;
  for (;;) {
    const r = await leaser.acquire(groupOf(c), 1, `drain-${n++}`);
    if (r.kind !== 'lease') {
      // the lease that found the day full blocked the scope for the day: the next one is told so
      expect(r).toMatchObject({ kind: 'wait' });
      expect(await leaser.acquire(groupOf(c), 1, `drain-${n++}`)).toMatchObject({ kind: 'wait', why: 'day' });
      return got;
    }
    got++;
  }
}

beforeAll(async () => {
  db = await createTestDatabase({ max: 10 });
  redis = [0, 1, 2, 3].map(() => new Redis(TEST_REDIS_URL));
  limiters = redis.map((r) => createRedisLimiter(r, prefix));
  ledger = createPostgresStores(db.handle.db, { secretKey: undefined }).ledger;
});
afterAll(async () => {
  await dropPrefix(prefix);
  for (const r of redis ?? []) r.disconnect();
  await db?.drop();
});

describe('RPD pool on real Redis and Postgres', () => {
  it('never grants past the limit under concurrency: 400 racing leases from 4 connections on rpd 150, every request spent in the end', async () => {
    const c = cand('race', 150);
    const results = await Promise.all(Array.from({ length: 400 }, (_, i) => leaserOn(i).acquire(groupOf(c), 1, `race-${i}`)));
    const first = results.filter(leased).length;
    expect(first).toBeLessThanOrEqual(150);
    expect(await reserved('race')).toBe(150);
    // whatever a racer put in the pool after another gave up is spent by the next leases, never lost
    const pooled = await (limiters[0] as Limiter).pooled(c.scope, today);
    expect(first + pooled).toBe(150);
    expect(await drain(leaserOn(0), c)).toBe(pooled);
    expect(await reserved('race')).toBe(150);
  });

  it('spends most requests from the pool: a day of 1000 takes far fewer ledger statements than requests', async () => {
    const c = cand('blocks', 1000);
    let statements = 0;
    const counting: Ledger = { ...ledger, reserveBlock: (s) => (statements++, ledger.reserveBlock(s)) };
    expect(await drain(leaserOn(0, counting), c)).toBe(1000);
    expect(await reserved('blocks')).toBe(1000);
    expect(statements).toBeLessThan(1000 / 5);
  });

  it('a cancelled lease gives its request back to the pool, even once the ledger\'s day is full', async () => {
    const c = cand('cancel', 3);
    const leaser = leaserOn(0);
    const leases = [];
    for (let i = 0; i < 3; i++) {
      const r = await leaser.acquire(groupOf(c), 1, `cancel-${i}`);
      if (r.kind !== 'lease') throw new Error('expected a lease');
      leases.push(r.lease);
    }
    expect((await leaser.acquire(groupOf(c), 1, 'cancel-full')).kind).toBe('wait');
    const back = leases[0];
    if (!back) throw new Error('setup');
    await leaser.cancel(back);
    expect(await (limiters[0] as Limiter).pooled(c.scope, today)).toBe(1);
    expect((await leaser.acquire(groupOf(c), 1, 'cancel-again')).kind).toBe('lease');
    expect((await leaser.acquire(groupOf(c), 1, 'cancel-over')).kind).toBe('wait');
    expect(await reserved('cancel')).toBe(3);
  });

  it('a Redis flush strands what the pool held: the day ends below its limit, never above', async () => {
    const c = cand('flush', 100);
    const leaser = leaserOn(0);
    expect((await leaser.acquire(groupOf(c), 1, 'flush-0')).kind).toBe('lease');
    // the first block was 5: one spent, four pooled, then Redis loses everything
    expect(await (limiters[0] as Limiter).pooled(c.scope, today)).toBe(4);
    await dropPrefix(prefix);
    expect(await drain(leaser, c)).toBe(100 - 5);
    expect(await reserved('flush')).toBe(100);
  });

  it('a new day starts a fresh pool and a fresh ledger row', async () => {
    const c = cand('days', 1000);
    const leaser = leaserOn(0);
    const a = await leaser.acquire(groupOf(c), 1, 'day-1');
    expect(a.kind === 'lease' && a.lease.day).toBe(today);
    const before = today;
    today = 'd2';
    try {
      const b = await leaser.acquire(groupOf(c), 1, 'day-2');
      expect(b.kind === 'lease' && b.lease.day).toBe('d2');
      expect(await (limiters[0] as Limiter).pooled(c.scope, before)).toBe(49);
      expect(await (limiters[0] as Limiter).pooled(c.scope, 'd2')).toBe(49);
      expect(await reserved('days', before)).toBe(50);
      expect(await reserved('days', 'd2')).toBe(50);
      // a lease of the day before, cancelled now, does not fill the new day's pool
      if (a.kind === 'lease') await leaser.cancel(a.lease);
      expect(await (limiters[0] as Limiter).pooled(c.scope, before)).toBe(49);
      expect(await (limiters[0] as Limiter).pooled(c.scope, 'd2')).toBe(49);
    } finally {
      today = before;
    }
  });

  it('keeps serving from the pool while Postgres is down, and fails as a dependency once the pool is empty', async () => {
    const c = cand('outage', 1000);
    let down = false;
    const flaky: Ledger = { ...ledger, reserveBlock: (s) => (down ? Promise.reject(new DependencyError('postgres is down')) : ledger.reserveBlock(s)) };
    const leaser = leaserOn(0, flaky);
    expect((await leaser.acquire(groupOf(c), 1, 'out-0')).kind).toBe('lease');
    down = true;
    for (let i = 1; i < 50; i++) expect((await leaser.acquire(groupOf(c), 1, `out-${i}`)).kind).toBe('lease');
    await expect(leaser.acquire(groupOf(c), 1, 'out-50')).rejects.toBeInstanceOf(DependencyError);
    // the failed lease gave its window reservation back
    expect((await (limiters[0] as Limiter).usage(c.scope)).rpm).toBe(50);
  });
});
