import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisLimiter } from '../../src/adapters/redis/limiter.js';
import { redisKeys } from '../../src/adapters/redis/keys.js';
import type { CandidateGroupRef, Limiter } from '../../src/app/ports.js';
import { windowCosts } from '../../src/core/dimensions.js';
import { TEST_REDIS_URL, dropPrefix, testPrefix } from '../helpers/redis.js';

/**
 * The window's running sums live in the scope's state hash and are trimmed
 * lazily (includes/window.lua): between trims they may still count entries
 * that just left the window. These tests put a scope's keys in each state
 * the lazy trim must handle and check the admission is still exact: stale
 * sums never refuse a request the exact window has room for, never admit
 * one it has not, and the keys keep a ttl.
 */
const WINDOW = 60_000;
const prefix = testPrefix('wtrim');
const keys = redisKeys(prefix);
let redis: Redis;
let limiter: Limiter;
let n = 0;

beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL);
  limiter = createRedisLimiter(redis, keys, { windowMs: WINDOW });
});
afterAll(async () => {
  await dropPrefix(prefix);
  redis.disconnect();
});

const scope = (): string => `p-${n++}|gemini-2.5-flash`;
const group = (s: string, rpm: number): CandidateGroupRef[] => [{ id: `g-${s}`, candidates: [{ scope: s, limits: { rpm, tpm: 1_000_000 } }] }];
const admit = (s: string, id: string, rpm: number) => limiter.admit(id, windowCosts(10), group(s, rpm));
const redisNow = async (): Promise<number> => {
  const [sec, us] = await redis.time();
  return Number(sec) * 1000 + Math.floor(Number(us) / 1000);
};
const sums = async (s: string): Promise<{ rpm: number; tpm: number; wo: number | null }> => {
  const [r, t, wo] = await redis.hmget(keys.scope(s).state, '_1', '_2', 'wo');
  return { rpm: Number(r ?? 0), tpm: Number(t ?? 0), wo: wo === null ? null : Number(wo) };
};

describe('lazy window trim', () => {
  it('keeps the sums in the state hash, sets the trim mark and a ttl on a new scope', async () => {
    const s = scope();
    expect(await admit(s, 'a', 5)).toMatchObject({ admitted: true });
    expect(await admit(s, 'b', 5)).toMatchObject({ admitted: true });
    const k = keys.scope(s);
    expect(await sums(s)).toMatchObject({ rpm: 2, tpm: 20 });
    expect((await sums(s)).wo).toBeGreaterThan(0);
    expect(await redis.hmget(k.costs, '_1', '_2')).toEqual([null, null]);
    expect(await redis.pttl(k.window)).toBeGreaterThan(WINDOW);
    expect(await redis.pttl(k.costs)).toBeGreaterThan(WINDOW);
    expect(await redis.ttl(k.state)).toBe(-1);
  });

  it('a request the stale sums refuse is decided on the exact window, and admitted', async () => {
    const s = scope();
    for (const id of ['a', 'b', 'c']) expect(await admit(s, id, 3)).toMatchObject({ admitted: true });
    expect(await admit(s, 'd', 3)).toMatchObject({ admitted: false });
    // the three entries left the window a moment ago, and the last trim is recent enough to be skipped
    const now = await redisNow();
    const k = keys.scope(s);
    for (const id of ['a', 'b', 'c']) await redis.zadd(k.window, 'XX', now - WINDOW - 5, id);
    await redis.hset(k.state, 'wo', now - WINDOW - 10);
    expect(await sums(s)).toMatchObject({ rpm: 3 });
    expect(await admit(s, 'e', 3)).toMatchObject({ admitted: true });
    expect(await sums(s)).toMatchObject({ rpm: 1, tpm: 10 });
    expect(await redis.zrange(k.window, 0, -1)).toEqual(['e']);
  });

  it('stale sums with room admit without trimming, and never past the limit', async () => {
    const s = scope();
    for (const id of ['a', 'b']) expect(await admit(s, id, 3)).toMatchObject({ admitted: true });
    const now = await redisNow();
    const k = keys.scope(s);
    await redis.zadd(k.window, 'XX', now - WINDOW - 5, 'a');
    await redis.hset(k.state, 'wo', now - WINDOW - 10);
    // 'a' has left the window but is still counted: one more fits either way
    expect(await admit(s, 'c', 3)).toMatchObject({ admitted: true });
    expect(await sums(s)).toMatchObject({ rpm: 3 });
    // the next one only fits once 'a' is dropped: the exact trim finds it
    expect(await admit(s, 'd', 3)).toMatchObject({ admitted: true });
    expect(await sums(s)).toMatchObject({ rpm: 3 });
    // b, c, d are live: full
    const last = await admit(s, 'e', 3);
    expect(last).toMatchObject({ admitted: false });
    expect(await limiter.usage(s)).toMatchObject({ rpm: 3 });
  });

  it('windows whose keys expired while idle start again from zero', async () => {
    const s = scope();
    for (const id of ['a', 'b', 'c']) expect(await admit(s, id, 3)).toMatchObject({ admitted: true });
    const k = keys.scope(s);
    // what the ttl does to an idle scope: the window and its entries go, the state hash stays
    await redis.del(k.window, k.costs);
    await redis.hset(k.state, 'wo', (await redisNow()) - 2 * WINDOW);
    expect(await sums(s)).toMatchObject({ rpm: 3 });
    expect(await admit(s, 'd', 3)).toMatchObject({ admitted: true });
    expect(await sums(s)).toMatchObject({ rpm: 1, tpm: 10 });
    expect(await redis.pttl(k.window)).toBeGreaterThan(WINDOW);
  });

  it('takes over sums kept in the costs hash by an earlier layout, once', async () => {
    const s = scope();
    const k = keys.scope(s);
    const now = await redisNow();
    // two live reservations as the earlier layout kept them: entries and sums both in the costs hash
    await redis.zadd(k.window, now - 1000, 'old-1', now - 500, 'old-2');
    await redis.hset(k.costs, 'old-1', '1,10', 'old-2', '1,10', '_1', 2, '_2', 20);
    expect(await admit(s, 'new', 3)).toMatchObject({ admitted: true });
    expect(await admit(s, 'over', 3)).toMatchObject({ admitted: false });
    expect(await sums(s)).toMatchObject({ rpm: 3, tpm: 30 });
    expect(await redis.hmget(k.costs, '_1', '_2')).toEqual([null, null]);
  });

  it('a settle renews the ttl only when the last trim is old (a long call)', async () => {
    const s = scope();
    const k = keys.scope(s);
    expect(await admit(s, 'quick', 5)).toMatchObject({ admitted: true });
    await redis.pexpire(k.window, 500_000);
    await limiter.settle(s, 'quick', windowCosts(12), 'success');
    // a recent trim renewed it: left alone
    expect(await redis.pttl(k.window)).toBeGreaterThan(WINDOW + 60_000);
    expect(await sums(s)).toMatchObject({ rpm: 1, tpm: 12 });

    expect(await admit(s, 'slow', 5)).toMatchObject({ admitted: true });
    await redis.hset(k.state, 'wo', (await redisNow()) - WINDOW - 40_000);
    await redis.pexpire(k.window, 5_000);
    await redis.pexpire(k.costs, 5_000);
    await limiter.settle(s, 'slow', windowCosts(8), 'success');
    expect(await redis.pttl(k.window)).toBeGreaterThan(WINDOW);
    expect(await redis.pttl(k.costs)).toBeGreaterThan(WINDOW);
    expect(await sums(s)).toMatchObject({ rpm: 2, tpm: 20 });
  });

  it('a tenant window keeps its sums and trim mark beside its entries', async () => {
    const s = scope();
    const tenant = { tenantId: `t-${n}`, dayId: '2026-11-26', monthId: '2026-11', window: { rpm: 2, tpm: 0 }, rpd: 0, tokensPerDay: 0, centralRpd: 0, centralTokensPerDay: 0, budgetMicros: null, estTokens: 10 };
    const go = (id: string) => limiter.admit(id, windowCosts(10), group(s, 100), { tenant });
    expect(await go('a')).toMatchObject({ admitted: true });
    expect(await go('b')).toMatchObject({ admitted: true });
    expect(await go('c')).toMatchObject({ admitted: false, why: 'tenant' });
    const tk = keys.tenant(tenant.tenantId);
    const now = await redisNow();
    for (const id of ['a', 'b']) await redis.zadd(tk.window, 'XX', now - WINDOW - 5, id);
    await redis.hset(tk.costs, 'wo', now - WINDOW - 10);
    expect(await go('d')).toMatchObject({ admitted: true });
    expect(await redis.hmget(tk.costs, '_1', '_2')).toEqual(['1', '10']);
  });
});

describe('settle of a call that answered its job', () => {
  it("frees the tenant's outstanding slot in the same step, once", async () => {
    const s = scope();
    const out = keys.tenant('answered').outstanding;
    await redis.hset(out, 'job-1', 's120', 'job-2', 'w80', '_n', 2, '_b', 200, '_w', 1);
    expect(await admit(s, 'r1', 5)).toMatchObject({ admitted: true });
    await limiter.settle(s, 'r1', windowCosts(10), 'success', undefined, undefined, { tenantId: 'answered', jobId: 'job-1' });
    expect(await redis.hmget(out, 'job-1', 'job-2', '_n', '_b', '_w')).toEqual([null, 'w80', '1', '80', '1']);
    // a second report for the same job changes nothing
    expect(await admit(s, 'r2', 5)).toMatchObject({ admitted: true });
    await limiter.settle(s, 'r2', windowCosts(10), 'success', undefined, undefined, { tenantId: 'answered', jobId: 'job-1' });
    expect(await redis.hmget(out, '_n', '_b', '_w')).toEqual(['1', '80', '1']);
    expect(await sums(s)).toMatchObject({ rpm: 2, tpm: 20 });
  });
});
