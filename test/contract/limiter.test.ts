import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryLimiter } from '../../src/adapters/memory/limiter.js';
import { createRedisLimiter } from '../../src/adapters/redis/limiter.js';
import type { CandidateGroupRef, Limiter } from '../../src/app/ports.js';
import { windowCosts } from '../../src/core/dimensions.js';
import { TEST_REDIS_URL, dropPrefix, testPrefix } from '../helpers/redis.js';

/**
 * One contract, two implementations: the Redis scripts every worker shares
 * and the in-memory limiter, held to the same decisions.
 */
const BREAKER = { failureThreshold: 3, openMs: 150, probeTimeoutMs: 60_000 };
const prefix = testPrefix('limiter');
let redis: Redis;

beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL);
});
afterAll(async () => {
  await dropPrefix(prefix);
  redis.disconnect();
});

const implementations: Array<[string, () => Limiter]> = [
  ['redis', () => createRedisLimiter(redis, prefix, { breaker: BREAKER })],
  ['memory', () => createMemoryLimiter({ clock: Date.now, breaker: BREAKER })],
];

describe.each(implementations)('%s limiter', (_name, make) => {
let limiter: Limiter;
let n = 0;
const scope = (name: string): string => `${name}-${n++}|gemini-2.5-pro`;
const group = (id: string, ...cands: Array<[string, number, number]>): CandidateGroupRef => ({
  id,
  candidates: cands.map(([s, rpm, tpm]) => ({ scope: s, limits: { rpm, tpm } })),
});
const admit = (id: string, tokens: number, groups: CandidateGroupRef[], l: Limiter = limiter) => l.admit(id, windowCosts(tokens), groups);
const settle = (s: string, id: string, tokens: number, ok: boolean) => limiter.settle(s, id, windowCosts(tokens), ok ? 'success' : 'none');
const usage = async (s: string) => {
  const u = await limiter.usage(s);
  return { requests: u.rpm, tokens: u.tpm };
};

beforeAll(() => {
  limiter = make();
});

describe('redis limiter (sliding window admission)', () => {
  it('admits exactly rpm requests, then says when the window frees', async () => {
    const s = scope('rpm');
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await admit(`r${i}`, 10, [group('g', [s, 3, 1_000_000])]));
    expect(results.map((r) => r.admitted)).toEqual([true, true, true, false]);
    const first = results[0];
    const last = results[3];
    if (!first?.admitted || last?.admitted !== false) throw new Error('unexpected');
    expect(last.earliestFreeMs).toBeGreaterThanOrEqual(first.nowMs + 60_000);
    expect(last.earliestFreeMs).toBeLessThanOrEqual(last.nowMs + 60_000);
  });

  it('counts input tokens against tpm and refuses what would exceed it', async () => {
    const s = scope('tpm');
    const g = [group('g', [s, 100, 1000])];
    expect((await admit('a', 600, g)).admitted).toBe(true);
    expect((await admit('b', 500, g)).admitted).toBe(false);
    expect((await admit('c', 400, g)).admitted).toBe(true);
    expect(await usage(s)).toEqual({ requests: 2, tokens: 1000 });
  });

  it('a request larger than the whole tpm limit never fits (earliest = null)', async () => {
    const r = await admit('big', 2000, [group('g', [scope('huge'), 10, 1000])]);
    expect(r).toMatchObject({ admitted: false, earliestFreeMs: null });
  });

  it('settle corrects tokens and release returns the whole reservation', async () => {
    const s = scope('settle');
    const g = [group('g', [s, 2, 1000])];
    await admit('x', 900, g);
    await settle(s, 'x', 100, true);
    expect(await usage(s)).toEqual({ requests: 1, tokens: 100 });
    expect((await admit('y', 800, g)).admitted).toBe(true);
    expect((await admit('z', 10, g)).admitted).toBe(false);
    await limiter.release(s, 'y');
    expect(await usage(s)).toEqual({ requests: 1, tokens: 100 });
    expect((await admit('z', 10, g)).admitted).toBe(true);
  });

  it('walks groups in order: the second only when the first has no room', async () => {
    const a = scope('first');
    const b = scope('second');
    const groups = [group('g1', [a, 1, 1000]), group('g2', [b, 5, 1000])];
    const r1 = await admit('1', 1, groups);
    const r2 = await admit('2', 1, groups);
    expect(r1).toMatchObject({ admitted: true, group: 0, candidate: 0 });
    expect(r2).toMatchObject({ admitted: true, group: 1, candidate: 0 });
  });

  it('within a group spreads load: least utilised first, round robin on ties', async () => {
    const scopes = [scope('s'), scope('s'), scope('s')];
    const g = [group(`spread-${n}`, ...scopes.map((s): [string, number, number] => [s, 10, 100_000]))];
    const picks: number[] = [];
    for (let i = 0; i < 9; i++) {
      const r = await admit(`p${i}`, 1, g);
      if (r.admitted) picks.push(r.candidate);
    }
    expect(picks).toHaveLength(9);
    for (const c of [0, 1, 2]) expect(picks.filter((p) => p === c)).toHaveLength(3);
  });

  it('keys sharing a scope take turns, independently of the rotation between scopes', async () => {
    const shared = scope('shared');
    const other = scope('alone');
    const g = [group(`mix-${n}`, [other, 100, 100_000], [shared, 100, 100_000], [shared, 100, 100_000])];
    const picks: number[] = [];
    for (let i = 0; i < 40; i++) {
      const r = await admit(`mix${i}`, 1, g);
      if (r.admitted) picks.push(r.candidate);
    }
    const count = (c: number): number => picks.filter((p) => p === c).length;
    // the two scopes split the load evenly (least utilised first), and the keys of the shared scope take turns
    expect(Math.abs(count(0) - (count(1) + count(2)))).toBeLessThanOrEqual(2);
    expect(count(1)).toBeGreaterThanOrEqual(7);
    expect(count(2)).toBeGreaterThanOrEqual(7);
  });

  it('in a tier larger than the scan sample, still finds the one scope with room', async () => {
    const full = Array.from({ length: 80 }, () => scope('full'));
    for (const f of full) await limiter.block(f, 'cool', 30_000, 'test');
    const free = scope('free');
    const g = [group(`big-${n}`, ...full.map((f): [string, number, number] => [f, 10, 1000]), [free, 10, 1000])];
    for (let i = 0; i < 5; i++) expect(await admit(`big${i}`, 1, g)).toMatchObject({ admitted: true, candidate: 80 });
  });

  it('is exact under concurrency: 200 racing admissions on rpm 37 admit 37', async () => {
    const s = scope('race');
    // Redis: ten connections, as ten workers would race; in memory: one limiter shared by all
    const conns = _name === 'redis' ? Array.from({ length: 10 }, () => new Redis(TEST_REDIS_URL)) : [];
    try {
      const limiters = conns.length ? conns.map((c) => createRedisLimiter(c, prefix)) : [limiter];
      const res = await Promise.all(
        Array.from({ length: 200 }, (_, i) => admit(`race${i}`, 1, [group('g', [s, 37, 1_000_000])], limiters[i % limiters.length])),
      );
      expect(res.filter((r) => r.admitted)).toHaveLength(37);
      expect((await usage(s)).requests).toBe(37);
    } finally {
      for (const c of conns) c.disconnect();
    }
  });

  it('skips a blocked scope, reports when the block ends, and never shortens a block', async () => {
    const s = scope('cool');
    const other = scope('other');
    expect(await limiter.block(s, 'cool', 30_000, 'rate_minute')).toBe(true);
    expect(await limiter.block(s, 'cool', 1_000, 'rate_minute')).toBe(false);
    const r = await admit('c1', 1, [group('g', [s, 10, 1000])]);
    if (r.admitted) throw new Error('admitted into a cooling scope');
    expect(r.earliestFreeMs).toBeGreaterThan(r.nowMs + 25_000);
    expect(await admit('c2', 1, [group('g', [s, 10, 1000], [other, 10, 1000])])).toMatchObject({ admitted: true, candidate: 1 });
    await limiter.clearBlock(s, 'cool');
    expect((await admit('c3', 1, [group('g', [s, 10, 1000])])).admitted).toBe(true);
  });

  it('a block without expiry never frees by itself; a model block covers every project', async () => {
    const s = scope('forever');
    await limiter.block(s, 'day', 0, 'model_not_found');
    expect(await admit('f', 1, [group('g', [s, 10, 1000])])).toMatchObject({ admitted: false, earliestFreeMs: null });
    const model = `model-${n++}`;
    await limiter.blockModel(model, 10_000, 'breaker_open');
    const r = await admit('m', 1, [group('g', [`p1|${model}`, 10, 1000], [`p2|${model}`, 10, 1000])]);
    expect(r.admitted).toBe(false);
  });
});

describe('settle re-stamps the reservation', () => {
  it('moves the entry to the completion time, so the window frees no earlier than upstream\'s', async () => {
    const s = scope('restamp');
    const g = [group('g', [s, 1, 1000])];
    const first = await admit('late', 5, g);
    if (!first.admitted) throw new Error('not admitted');
    await new Promise((r) => setTimeout(r, 30));
    await settle(s, 'late', 5, true);
    const second = await admit('next', 5, g);
    if (second.admitted) throw new Error('admitted over rpm');
    expect(second.earliestFreeMs).toBeGreaterThanOrEqual(first.nowMs + 60_000 + 25);
  });
});

describe('discovered limits (a limit nobody configured grows while calls succeed near it)', () => {
  const disc = (s: string, rpm: number) => [{ id: `d-${s}`, candidates: [{ scope: s, limits: { rpm, tpm: 1_000_000 }, discover: { rpm: true } }] }];
  const report = (event: 'success' | 'quota429', quotaValue?: number) => ({ event, ...(event === 'quota429' ? { dimension: 'rpm' as const, quotaValue: quotaValue ?? null } : {}), discover: { rpm: true }, floors: { rpm: 2, tpm: 1_000_000 } });

  it('starts at the floor and raises the admitted limit with each success near it (slow start)', async () => {
    const s = scope('disc');
    expect((await admit('d1', 1, disc(s, 2))).admitted).toBe(true);
    expect((await admit('d2', 1, disc(s, 2))).admitted).toBe(true);
    // the floor: a third would be over 2
    expect((await admit('d3', 1, disc(s, 2))).admitted).toBe(false);
    await limiter.settle(s, 'd1', windowCosts(1), 'success', undefined, report('success'));
    await limiter.settle(s, 'd2', windowCosts(1), 'success', undefined, report('success'));
    expect((await limiter.discovered(s)).rpm?.limit).toBeGreaterThan(2);
    expect((await admit('d4', 1, disc(s, 2))).admitted).toBe(true);
  });

  it('a quota 429 naming the limit sets it exactly', async () => {
    const s = scope('exact');
    await admit('e1', 1, disc(s, 2));
    await limiter.settle(s, 'e1', windowCosts(1), 'none', undefined, report('quota429', 1));
    expect(await limiter.discovered(s)).toMatchObject({ rpm: { limit: 1, phase: 'exact' } });
    expect((await admit('e2', 1, disc(s, 2))).admitted).toBe(false);
  });

  it('a scope whose limit is not discovered ignores discovery reports', async () => {
    const s = scope('fixed');
    await admit('f1', 1, [group('g', [s, 2, 1_000_000])]);
    await limiter.settle(s, 'f1', windowCosts(1), 'success', undefined, { ...report('success'), discover: {} });
    expect(await limiter.discovered(s)).toEqual({});
  });
});

describe('circuit breaker per (project, model), shared by all workers', () => {
  const fail = (sc: string, i: number) => limiter.settle(sc, `fail-${n++}-${i}`, windowCosts(1), 'failure');

  it('opens after 3 consecutive failures, blocks that scope only, then lets exactly one probe through', async () => {
    const model = `brk-${n++}`;
    const [p1, p2] = [`p1|${model}`, `p2|${model}`];
    expect((await fail(p1, 1)).breakerOpened).toBe(false);
    expect((await fail(p1, 2)).breakerOpened).toBe(false);
    expect((await fail(p1, 3)).breakerOpened).toBe(true);
    expect((await limiter.breaker(p1)).state).toBe('open');
    expect((await admit('b0', 1, [group('g', [p1, 100, 1_000_000])])).admitted).toBe(false);
    // another project of the same model is not affected
    expect(await admit('b1', 1, [group('g2', [p1, 100, 1_000_000], [p2, 100, 1_000_000])])).toMatchObject({ admitted: true, candidate: 1 });
    await new Promise((r) => setTimeout(r, BREAKER.openMs + 50));
    const racers = await Promise.all(Array.from({ length: 10 }, (_, i) => admit(`probe${i}`, 1, [group('g3', [p1, 100, 1_000_000])])));
    const admitted = racers.filter((x) => x.admitted);
    expect(admitted).toHaveLength(1);
    expect(admitted[0]).toMatchObject({ probe: true });
    expect((await limiter.breaker(p1)).state).toBe('half_open');
    // the probe succeeds: closed again, traffic flows
    await settle(p1, 'probe' + racers.findIndex((x) => x.admitted), 1, true);
    expect((await limiter.breaker(p1)).state).toBe('closed');
    expect((await admit('after', 1, [group('g3', [p1, 100, 1_000_000])])).admitted).toBe(true);
  });

  it('a failed probe re-opens at once; a success between failures resets the count', async () => {
    const s = `p1|brk-${n++}`;
    const g = [group('g', [s, 100, 1_000_000])];
    await fail(s, 1);
    await fail(s, 2);
    const ok = await admit('ok', 1, g);
    expect(ok.admitted).toBe(true);
    await settle(s, 'ok', 1, true);
    expect((await fail(s, 3)).breakerOpened).toBe(false);
    expect((await limiter.breaker(s)).fails).toBe(1);
    await fail(s, 4);
    expect((await fail(s, 5)).breakerOpened).toBe(true);
    await new Promise((r) => setTimeout(r, BREAKER.openMs + 50));
    expect(await admit('probe', 1, g)).toMatchObject({ admitted: true, probe: true });
    expect((await fail(s, 6)).breakerOpened).toBe(true);
    expect((await limiter.breaker(s)).state).toBe('open');
    expect((await admit('blocked', 1, g)).admitted).toBe(false);
  });

  it('a model block (several projects failing together) stops every project of the model', async () => {
    const model = `mb-${n++}`;
    expect(await limiter.blockModel(model, 10_000, 'breakers of several projects open')).toBe(true);
    expect((await admit('mb', 1, [group('g', [`p1|${model}`, 10, 1000], [`p9|${model}`, 10, 1000])])).admitted).toBe(false);
    expect(await limiter.modelBlock(model)).toBeGreaterThan(5_000);
  });

  it('a global block stops every scope', async () => {
    const l2 = _name === 'redis' ? createRedisLimiter(redis, `${prefix}-global`) : createMemoryLimiter({ clock: Date.now });
    await l2.blockGlobal(10_000, 'storm');
    expect((await admit('x', 1, [group('g', [scope('any'), 10, 1000])], l2)).admitted).toBe(false);
    await dropPrefix(`${prefix}-global`);
  });

  it('notes distinct members in a sliding window', async () => {
    const topic = `t-${n++}`;
    expect(await limiter.note(topic, 'a', 10_000)).toBe(1);
    expect(await limiter.note(topic, 'a', 10_000)).toBe(1);
    expect(await limiter.note(topic, 'b', 10_000)).toBe(2);
  });
});


describe('RPD pool (requests the ledger reserved in blocks, spent at admission)', () => {
  const pool = (day: string) => ({ day, ttlMs: 60_000 });
  const admitDay = (id: string, s: string, day: string) => limiter.admit(id, windowCosts(1), [group('g', [s, 1000, 1_000_000])], { rpd: pool(day) });

  it('takes the request of the day from the pool in the admission step, and says so when the pool is empty', async () => {
    const s = scope('pool');
    expect(await admitDay('a0', s, 'd1')).toMatchObject({ admitted: true, rpd: false });
    // a block of 4: one for the caller, three pooled
    expect(await limiter.fillPool(s, pool('d1'), 4)).toBe(true);
    expect(await limiter.pooled(s, 'd1')).toBe(3);
    for (let i = 1; i <= 3; i++) expect(await admitDay(`a${i}`, s, 'd1')).toMatchObject({ admitted: true, rpd: true });
    expect(await limiter.pooled(s, 'd1')).toBe(0);
    expect(await admitDay('a4', s, 'd1')).toMatchObject({ admitted: true, rpd: false });
    expect(await limiter.pooled(s, 'd1')).toBe(0);
  });

  it('an admission without a pool reference never touches the pool', async () => {
    const s = scope('nopool');
    await limiter.fillPool(s, pool('d1'), 3);
    expect(await admit('n1', 1, [group('g', [s, 1000, 1_000_000])])).toMatchObject({ admitted: true, rpd: false });
    expect(await limiter.pooled(s, 'd1')).toBe(2);
  });

  it('a released reservation gives its request back to the pool', async () => {
    const s = scope('back');
    await admitDay('b0', s, 'd1');
    await limiter.release(s, 'b0', undefined, pool('d1'));
    expect(await limiter.pooled(s, 'd1')).toBe(1);
    expect(await admitDay('b1', s, 'd1')).toMatchObject({ admitted: true, rpd: true });
    await limiter.release(s, 'b1');
    expect(await limiter.pooled(s, 'd1')).toBe(0);
  });

  it('a fill with nothing granted takes what the pool still holds, and says no when it holds nothing', async () => {
    const s = scope('zero');
    expect(await limiter.fillPool(s, pool('d1'), 0)).toBe(false);
    await limiter.fillPool(s, pool('d1'), 2);
    expect(await limiter.fillPool(s, pool('d1'), 0)).toBe(true);
    expect(await limiter.fillPool(s, pool('d1'), 0)).toBe(false);
    expect(await limiter.pooled(s, 'd1')).toBe(0);
  });

  it('pools are per day: a new day starts from an empty pool', async () => {
    const s = scope('days');
    await limiter.fillPool(s, pool('d1'), 5);
    expect(await admitDay('c1', s, 'd2')).toMatchObject({ admitted: true, rpd: false });
    expect(await limiter.pooled(s, 'd1')).toBe(4);
    expect(await limiter.pooled(s, 'd2')).toBe(0);
  });

  it('a day the ledger ran out of yields to the pool while it holds requests; a per-day 429 does not', async () => {
    const s = scope('full');
    await limiter.block(s, 'day', 60_000, 'rpd_full');
    expect((await admitDay('f0', s, 'd1')).admitted).toBe(false);
    await limiter.release(s, 'gone', undefined, pool('d1'));
    expect(await admitDay('f1', s, 'd1')).toMatchObject({ admitted: true, rpd: true });
    expect(await admitDay('f2', s, 'd1')).toMatchObject({ admitted: false, why: 'day' });
    await limiter.release(s, 'gone2', undefined, pool('d1'));
    // upstream said the day is over: a shorter block still replaces the reason, and the pool no longer helps
    await limiter.block(s, 'day', 30_000, 'rate_day');
    expect(await admitDay('f3', s, 'd1')).toMatchObject({ admitted: false, why: 'day' });
    expect(await limiter.pooled(s, 'd1')).toBe(1);
  });
});

});
