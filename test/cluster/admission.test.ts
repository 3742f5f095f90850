import fc from 'fast-check';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, hashTagPrefix, type RedisClient } from '../../src/adapters/redis/connection.js';
import { redisKeys } from '../../src/adapters/redis/keys.js';
import { createRedisLimiter } from '../../src/adapters/redis/limiter.js';
import type { CandidateGroupRef, Limiter } from '../../src/app/ports.js';
import { parseConfig, type RedisSettings } from '../../src/config.js';
import { windowCosts } from '../../src/core/dimensions.js';
import { startRedisCluster, type LocalCluster } from '../helpers/redis-cluster.js';
import { TEST_REDIS_URL, dropPrefix, testPrefix } from '../helpers/redis.js';

/**
 * The admission scripts on a real Redis Cluster: with the hash-tagged prefix
 * every key quotaflow builds lands in one slot, and the limiter decides
 * exactly as it does on one server (the same cases run on both).
 */
const BREAKER = { failureThreshold: 3, openMs: 150, probeTimeoutMs: 60_000 };
let cluster: LocalCluster;
let settings: RedisSettings;
let clusterConn: Cluster;
const singlePrefix = testPrefix('cl-admit');
const clusterPrefix = hashTagPrefix(testPrefix('cl-admit'), 'cluster');
const opened: RedisClient[] = [];

const open = (s: RedisSettings): RedisClient => {
  const c = connectRedis(s);
  opened.push(c);
  return c;
};

// createRedisLimiter takes a `Redis` today; a Cluster offers every command it
// uses (defineCommand, hmget, zrangebyscore, time...). Cast here only, until
// its parameter widens to `Redis | Cluster`.
const limiterOn = (conn: RedisClient, prefix: string): Limiter => createRedisLimiter(conn as Redis, prefix, { breaker: BREAKER });

beforeAll(async () => {
  cluster = await startRedisCluster();
  settings = parseConfig({ REDIS_CLUSTER_NODES: cluster.nodes.join(',') }).redis;
  const conn = open(settings);
  if (!(conn instanceof Cluster)) throw new Error('cluster settings opened a single-server connection');
  clusterConn = conn;
});
afterAll(async () => {
  for (const c of opened) c.disconnect();
  await dropPrefix(singlePrefix);
  await cluster?.stop();
});

/** Every key the key builder makes for one scope, model, tenant and job. */
const everyKey = (prefix: string, project: string, model: string, tenant: string): string[] => {
  const k = redisKeys(prefix);
  const t = k.tenant(tenant);
  const s = k.scope(`${project}|${model}`);
  return [k.global, k.model(model), s.window, s.costs, s.state, k.rotation(`${project}-${model}`), k.note(`storm-${model}`), k.fleetVersion, k.tenantDirectory, t.outstanding, t.window, t.costs, t.day('2025-01-01'), t.month('2025-01'), k.job('generation', `m-${tenant}`)];
};
const slotsOf = async (keys: string[]): Promise<Set<number>> => new Set(await Promise.all(keys.map((key) => clusterConn.cluster('KEYSLOT', key))));

describe('hash-tagged prefix on a cluster', () => {
  it('puts every key of any scope, model and tenant in one slot', async () => {
    const id = fc.string({ minLength: 1, maxLength: 12 });
    const slots = new Set<number>();
    await fc.assert(
      fc.asyncProperty(id, id, id, async (project, model, tenant) => {
        const s = await slotsOf(everyKey(clusterPrefix, project, model, tenant));
        expect(s.size).toBe(1);
        s.forEach((slot) => slots.add(slot));
      }),
      { numRuns: 40 },
    );
    // ids containing braces too: the prefix's tag comes first, so it decides
    expect((await slotsOf(everyKey(clusterPrefix, '{p}', 'm}', '{t'))).size).toBe(1);
    expect(slots.size).toBe(1);
  });

  it('without the tag the same keys spread over several slots', async () => {
    const untagged = clusterPrefix.slice(1, -1);
    expect(hashTagPrefix(untagged, 'single')).toBe(untagged);
    expect((await slotsOf(everyKey(untagged, 'p1', 'gemini-2.5-pro', 'acme'))).size).toBeGreaterThan(1);
  });

  it('an admission across several scopes is refused by the cluster when the keys are not tagged', async () => {
    const limiter = limiterOn(clusterConn, clusterPrefix.slice(1, -1));
    const groups = [{ id: 'g', candidates: ['p1|m1', 'p2|m2'].map((scope) => ({ scope, limits: { rpm: 10, tpm: 1000 } })) }];
    await expect(limiter.admit('x', windowCosts(1), groups)).rejects.toThrow(/CROSSSLOT/);
  });
});

const backends: Array<[string, () => { limiter: Limiter; racers: () => Limiter[] }]> = [
  ['cluster', () => ({ limiter: limiterOn(clusterConn, clusterPrefix), racers: () => Array.from({ length: 10 }, () => limiterOn(open(settings), clusterPrefix)) })],
  ['single server', () => {
    const single = parseConfig({ REDIS_URL: TEST_REDIS_URL }).redis;
    return { limiter: limiterOn(open(single), singlePrefix), racers: () => Array.from({ length: 10 }, () => limiterOn(open(single), singlePrefix)) };
  }],
];

describe.each(backends)('limiter on a %s', (_name, make) => {
  let limiter: Limiter;
  let racers: () => Limiter[];
  let n = 0;
  const scope = (name: string, model = 'gemini-2.5-pro'): string => `${name}-${n++}|${model}`;
  const group = (id: string, ...cands: Array<[string, number, number]>): CandidateGroupRef => ({ id: `${id}-${n++}`, candidates: cands.map(([s, rpm, tpm]) => ({ scope: s, limits: { rpm, tpm } })) });
  const admit = (id: string, tokens: number, groups: CandidateGroupRef[], l: Limiter = limiter) => l.admit(id, windowCosts(tokens), groups);
  const usage = async (s: string) => {
    const u = await limiter.usage(s);
    return { requests: u.rpm, tokens: u.tpm };
  };

  beforeAll(() => {
    ({ limiter, racers } = make());
  });

  it('admits exactly rpm requests, then says when the window frees', async () => {
    const s = scope('rpm');
    const g = [group('g', [s, 3, 1_000_000])];
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await admit(`r${i}`, 10, g));
    expect(results.map((r) => r.admitted)).toEqual([true, true, true, false]);
    const [first, , , last] = results;
    if (!first?.admitted || last?.admitted !== false) throw new Error('unexpected');
    expect(last.earliestFreeMs).toBeGreaterThanOrEqual(first.nowMs + 60_000);
  });

  it('counts tokens against tpm, settles the true cost and releases whole reservations', async () => {
    const s = scope('tpm');
    const g = [group('g', [s, 5, 1000])];
    expect((await admit('a', 600, g)).admitted).toBe(true);
    expect((await admit('b', 500, g)).admitted).toBe(false);
    await limiter.settle(s, 'a', windowCosts(100), 'success');
    expect(await usage(s)).toEqual({ requests: 1, tokens: 100 });
    expect((await admit('c', 800, g)).admitted).toBe(true);
    await limiter.release(s, 'c');
    expect(await usage(s)).toEqual({ requests: 1, tokens: 100 });
  });

  it('walks groups in order and skips blocked scopes, across models and projects in one call', async () => {
    const [a, b, c, d] = [scope('p', 'm-a'), scope('p', 'm-b'), scope('q', 'm-a'), scope('q', 'm-c')];
    await limiter.block(a, 'cool', 30_000, 'rate_minute');
    await limiter.blockModel('m-b', 30_000, 'breaker_open');
    const groups = [group('g1', [a, 10, 1000], [b, 10, 1000]), group('g2', [c, 1, 1000], [d, 10, 1000])];
    expect(await admit('1', 1, groups)).toMatchObject({ admitted: true, group: 1 });
    expect(await admit('2', 1, groups)).toMatchObject({ admitted: true, group: 1 });
    expect(await usage(c)).toEqual({ requests: 1, tokens: 1 });
    expect(await usage(d)).toEqual({ requests: 1, tokens: 1 });
    expect(await limiter.blocks(a)).toMatchObject({ dayMs: null });
    expect((await limiter.blocks(a)).coolMs).toBeGreaterThan(20_000);
  });

  it('is exact under concurrency: 200 racing admissions on rpm 37 from ten connections admit 37', async () => {
    const s = scope('race');
    const g = [group('g', [s, 37, 1_000_000])];
    const ls = racers();
    const res = await Promise.all(Array.from({ length: 200 }, (_, i) => admit(`race${i}`, 1, g, ls[i % ls.length])));
    expect(res.filter((r) => r.admitted)).toHaveLength(37);
    expect((await usage(s)).requests).toBe(37);
  });

  it('opens a breaker after three failures and lets exactly one probe through', async () => {
    const s = scope('brk');
    const g = [group('g', [s, 100, 1_000_000])];
    for (let i = 1; i <= 3; i++) expect((await limiter.settle(s, `f${i}`, windowCosts(1), 'failure')).breakerOpened).toBe(i === 3);
    expect((await admit('blocked', 1, g)).admitted).toBe(false);
    await new Promise((r) => setTimeout(r, BREAKER.openMs + 50));
    const probes = await Promise.all(Array.from({ length: 10 }, (_, i) => admit(`probe${i}`, 1, g)));
    expect(probes.filter((p) => p.admitted)).toEqual([expect.objectContaining({ probe: true })]);
    expect((await limiter.breaker(s)).state).toBe('half_open');
  });

  it('counts distinct members in a sliding window', async () => {
    const topic = `t-${n++}`;
    expect(await limiter.note(topic, 'a', 10_000)).toBe(1);
    expect(await limiter.note(topic, 'a', 10_000)).toBe(1);
    expect(await limiter.note(topic, 'b', 10_000)).toBe(2);
  });
});
