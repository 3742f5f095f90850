import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisLimiter, type CandidateGroupRef, type Limiter } from '../../src/adapters/redis/limiter.js';
import { TEST_REDIS_URL, dropPrefix, testPrefix } from '../helpers/redis.js';

const prefix = testPrefix('limiter');
let redis: Redis;
let limiter: Limiter;
let n = 0;
const scope = (name: string): string => `${name}-${n++}|gemini-2.5-pro`;
const group = (id: string, ...cands: Array<[string, number, number]>): CandidateGroupRef => ({
  id,
  candidates: cands.map(([s, rpm, tpm]) => ({ scope: s, rpm, tpm })),
});

beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL);
  limiter = createRedisLimiter(redis, prefix);
});
afterAll(async () => {
  await dropPrefix(prefix);
  redis.disconnect();
});

describe('redis limiter (sliding window admission)', () => {
  it('admits exactly rpm requests, then says when the window frees', async () => {
    const s = scope('rpm');
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await limiter.admit(`r${i}`, 10, [group('g', [s, 3, 1_000_000])]));
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
    expect((await limiter.admit('a', 600, g)).admitted).toBe(true);
    expect((await limiter.admit('b', 500, g)).admitted).toBe(false);
    expect((await limiter.admit('c', 400, g)).admitted).toBe(true);
    expect(await limiter.usage(s)).toEqual({ requests: 2, tokens: 1000 });
  });

  it('a request larger than the whole tpm limit never fits (earliest = null)', async () => {
    const r = await limiter.admit('big', 2000, [group('g', [scope('huge'), 10, 1000])]);
    expect(r).toMatchObject({ admitted: false, earliestFreeMs: null });
  });

  it('settle corrects tokens and release returns the whole reservation', async () => {
    const s = scope('settle');
    const g = [group('g', [s, 2, 1000])];
    await limiter.admit('x', 900, g);
    await limiter.settle(s, 'x', 100, true);
    expect(await limiter.usage(s)).toEqual({ requests: 1, tokens: 100 });
    expect((await limiter.admit('y', 800, g)).admitted).toBe(true);
    expect((await limiter.admit('z', 10, g)).admitted).toBe(false);
    await limiter.release(s, 'y');
    expect(await limiter.usage(s)).toEqual({ requests: 1, tokens: 100 });
    expect((await limiter.admit('z', 10, g)).admitted).toBe(true);
  });

  it('walks groups in order: the second only when the first has no room', async () => {
    const a = scope('first');
    const b = scope('second');
    const groups = [group('g1', [a, 1, 1000]), group('g2', [b, 5, 1000])];
    const r1 = await limiter.admit('1', 1, groups);
    const r2 = await limiter.admit('2', 1, groups);
    expect(r1).toMatchObject({ admitted: true, group: 0, candidate: 0 });
    expect(r2).toMatchObject({ admitted: true, group: 1, candidate: 0 });
  });

  it('within a group spreads load: least utilised first, round robin on ties', async () => {
    const scopes = [scope('s'), scope('s'), scope('s')];
    const g = [group(`spread-${n}`, ...scopes.map((s): [string, number, number] => [s, 10, 100_000]))];
    const picks: number[] = [];
    for (let i = 0; i < 9; i++) {
      const r = await limiter.admit(`p${i}`, 1, g);
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
      const r = await limiter.admit(`mix${i}`, 1, g);
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
    for (let i = 0; i < 5; i++) expect(await limiter.admit(`big${i}`, 1, g)).toMatchObject({ admitted: true, candidate: 80 });
  });

  it('is exact under concurrency: 200 racing admissions on rpm 37 admit 37', async () => {
    const s = scope('race');
    const conns = Array.from({ length: 10 }, () => new Redis(TEST_REDIS_URL));
    try {
      const limiters = conns.map((c) => createRedisLimiter(c, prefix));
      const res = await Promise.all(
        Array.from({ length: 200 }, (_, i) => limiters[i % limiters.length]!.admit(`race${i}`, 1, [group('g', [s, 37, 1_000_000])])),
      );
      expect(res.filter((r) => r.admitted)).toHaveLength(37);
      expect((await limiter.usage(s)).requests).toBe(37);
    } finally {
      for (const c of conns) c.disconnect();
    }
  });

  it('skips a blocked scope, reports when the block ends, and never shortens a block', async () => {
    const s = scope('cool');
    const other = scope('other');
    expect(await limiter.block(s, 'cool', 30_000, 'rate_minute')).toBe(true);
    expect(await limiter.block(s, 'cool', 1_000, 'rate_minute')).toBe(false);
    const r = await limiter.admit('c1', 1, [group('g', [s, 10, 1000])]);
    if (r.admitted) throw new Error('admitted into a cooling scope');
    expect(r.earliestFreeMs).toBeGreaterThan(r.nowMs + 25_000);
    expect(await limiter.admit('c2', 1, [group('g', [s, 10, 1000], [other, 10, 1000])])).toMatchObject({ admitted: true, candidate: 1 });
    await limiter.clearBlock(s, 'cool');
    expect((await limiter.admit('c3', 1, [group('g', [s, 10, 1000])])).admitted).toBe(true);
  });

  it('a block without expiry never frees by itself; a model block covers every project', async () => {
    const s = scope('forever');
    await limiter.block(s, 'day', 0, 'model_not_found');
    expect(await limiter.admit('f', 1, [group('g', [s, 10, 1000])])).toMatchObject({ admitted: false, earliestFreeMs: null });
    const model = `model-${n++}`;
    await limiter.blockModel(model, 10_000, 'breaker_open');
    const r = await limiter.admit('m', 1, [group('g', [`p1|${model}`, 10, 1000], [`p2|${model}`, 10, 1000])]);
    expect(r.admitted).toBe(false);
  });
});

describe('settle re-stamps the reservation', () => {
  it('moves the entry to the completion time, so the window frees no earlier than upstream\'s', async () => {
    const s = scope('restamp');
    const g = [group('g', [s, 1, 1000])];
    const first = await limiter.admit('late', 5, g);
    if (!first.admitted) throw new Error('not admitted');
    await new Promise((r) => setTimeout(r, 30));
    await limiter.settle(s, 'late', 5, true);
    const second = await limiter.admit('next', 5, g);
    if (second.admitted) throw new Error('admitted over rpm');
    expect(second.earliestFreeMs).toBeGreaterThanOrEqual(first.nowMs + 60_000 + 25);
  });
});

describe('model circuit breaker (shared by all workers)', () => {
  it('opens after 3 consecutive failures, blocks the model, then lets exactly one probe through', async () => {
    const model = `brk-${n++}`;
    const g = [group('g', [`p1|${model}`, 100, 1_000_000], [`p2|${model}`, 100, 1_000_000])];
    expect(await limiter.modelFailure(model, { openMs: 150 })).toBe(false);
    expect(await limiter.modelFailure(model, { openMs: 150 })).toBe(false);
    expect(await limiter.modelFailure(model, { openMs: 150 })).toBe(true);
    expect((await limiter.breaker(model)).state).toBe('open');
    expect((await limiter.admit('b0', 1, g)).admitted).toBe(false);
    await new Promise((r) => setTimeout(r, 200));
    const racers = await Promise.all(Array.from({ length: 10 }, (_, i) => limiter.admit(`probe${i}`, 1, g)));
    const admitted = racers.filter((x) => x.admitted);
    expect(admitted).toHaveLength(1);
    expect(admitted[0]).toMatchObject({ probe: true });
    expect((await limiter.breaker(model)).state).toBe('half_open');
    // the probe succeeds: closed again, traffic flows
    await limiter.settle(`p1|${model}`, 'probe' + racers.findIndex((x) => x.admitted), 1, true);
    expect((await limiter.breaker(model)).state).toBe('closed');
    expect((await limiter.admit('after', 1, g)).admitted).toBe(true);
  });

  it('a failed probe re-opens at once; a success between failures resets the count', async () => {
    const model = `brk-${n++}`;
    const s = `p1|${model}`;
    const g = [group('g', [s, 100, 1_000_000])];
    await limiter.modelFailure(model);
    await limiter.modelFailure(model);
    const ok = await limiter.admit('ok', 1, g);
    expect(ok.admitted).toBe(true);
    await limiter.settle(s, 'ok', 1, true);
    expect(await limiter.modelFailure(model)).toBe(false);
    expect((await limiter.breaker(model)).fails).toBe(1);
    await limiter.modelFailure(model, { openMs: 100 });
    expect(await limiter.modelFailure(model, { openMs: 100 })).toBe(true);
    await new Promise((r) => setTimeout(r, 150));
    expect(await limiter.admit('probe', 1, g)).toMatchObject({ admitted: true, probe: true });
    expect(await limiter.modelFailure(model, { openMs: 100_000 })).toBe(true);
    expect((await limiter.breaker(model)).state).toBe('open');
    expect((await limiter.admit('blocked', 1, g)).admitted).toBe(false);
  });

  it('a global block stops every scope', async () => {
    const other = `qft-global-${n++}`;
    const l2 = createRedisLimiter(redis, other);
    await l2.blockGlobal(10_000, 'storm');
    expect((await l2.admit('x', 1, [group('g', [scope('any'), 10, 1000])])).admitted).toBe(false);
    await dropPrefix(other);
  });
});
