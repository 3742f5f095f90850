import Fastify, { type FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/adapters/crypto/secret-box.js';
import { redisKeys } from '../../src/adapters/redis/keys.js';
import { createAuthThrottle } from '../../src/api/security/auth-throttle.js';
import { redisThrottleStore } from '../../src/api/security/redis-throttle-store.js';
import { tenantGuard } from '../../src/api/tenant-auth.js';
import type { Tenant } from '../../src/core/types.js';
import { TEST_REDIS_URL, dropPrefix, testPrefix } from '../helpers/redis.js';

const LIMIT = 10;
const GOOD = 'tenant-token-acme-000001';
const ACME: Tenant = { id: 'acme', keyMode: 'own-then-central', models: null };
const prefix = testPrefix('tenant-throttle');
const keys = redisKeys(prefix);
let redis: Redis;
const apps: FastifyInstance[] = [];

/** The tenant lookup the guard is given, counting the lookups it is asked for (each one a Postgres query in production). */
function countingStore() {
  const store = {
    lookups: 0,
    async tenantByTokenHash(hash: string): Promise<Tenant | null> {
      store.lookups++;
      return hash === hashToken(GOOD) ? ACME : null;
    },
  };
  return store;
}

/** One API process: its own guard and caches, the counters shared through Redis. */
async function producerApp(store: ReturnType<typeof countingStore>, surface = 'tenant'): Promise<FastifyInstance> {
  const app = Fastify();
  const throttle = createAuthThrottle(redisThrottleStore(redis, keys, surface, 60_000), { limit: LIMIT, windowMs: 60_000 });
  const guard = tenantGuard({ store, throttle });
  app.post('/v1/generations', { onRequest: guard }, async (req) => ({ tenant: req.tenant?.id }));
  apps.push(app);
  return app;
}

const call = (app: FastifyInstance, token: string, remoteAddress: string) => app.inject({ method: 'POST', url: '/v1/generations', headers: { authorization: `Bearer ${token}` }, payload: {}, remoteAddress });

beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL);
});

afterAll(async () => {
  for (const a of apps) await a.close();
  redis?.disconnect();
  await dropPrefix(prefix);
});

describe('failed tenant authentication', () => {
  it('30 wrong tokens from one address: 429 with Retry-After after the limit, at most the limit looked up; another address still gets in', async () => {
    const store = countingStore();
    const app = await producerApp(store, 'seq');
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) {
      const r = await call(app, `wrong-token-${i}-000000000`, '203.0.113.1');
      statuses.push(r.statusCode);
      if (r.statusCode === 429) {
        expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
        expect(Number(r.headers['retry-after'])).toBeLessThanOrEqual(60);
        expect(r.json().error.code).toBe('too_many_attempts');
      }
    }
    expect(statuses.filter((s) => s === 403)).toHaveLength(LIMIT);
    expect(statuses.filter((s) => s === 429)).toHaveLength(30 - LIMIT);
    expect(store.lookups).toBeLessThanOrEqual(LIMIT);
    const lookupsSoFar = store.lookups;
    // the throttled address is refused even with a good token, without a lookup
    expect((await call(app, GOOD, '203.0.113.1')).statusCode).toBe(429);
    expect(store.lookups).toBe(lookupsSoFar);
    const other = await call(app, GOOD, '198.51.100.2');
    expect(other.statusCode).toBe(200);
    expect(other.json()).toEqual({ tenant: 'acme' });
  });

  it('holds the limit for wrong tokens sent all at once', async () => {
    const store = countingStore();
    const app = await producerApp(store, 'burst');
    const rs = await Promise.all(Array.from({ length: 30 }, (_, i) => call(app, `burst-token-${i}-00000000`, '203.0.113.3')));
    expect(store.lookups).toBeLessThanOrEqual(LIMIT);
    expect(rs.filter((r) => r.statusCode === 429)).toHaveLength(30 - store.lookups);
  });

  it('counts a repeated wrong token (answered from the cache) like a new one', async () => {
    const store = countingStore();
    const app = await producerApp(store, 'repeat');
    const statuses: number[] = [];
    for (let i = 0; i < 15; i++) statuses.push((await call(app, 'the-same-wrong-token-0000', '203.0.113.4')).statusCode);
    expect(store.lookups).toBe(1);
    expect(statuses.slice(0, LIMIT).every((s) => s === 403)).toBe(true);
    expect(statuses.slice(LIMIT).every((s) => s === 429)).toBe(true);
  });

  it('never counts successes: a busy good client is not throttled, and its successes free no one else', async () => {
    const store = countingStore();
    const app = await producerApp(store, 'busy');
    for (let i = 0; i < 3 * LIMIT; i++) expect((await call(app, GOOD, '203.0.113.5')).statusCode).toBe(200);
    for (let i = 0; i < LIMIT; i++) await call(app, `w-${i}-0000000000000000`, '203.0.113.6');
    await call(app, GOOD, '203.0.113.5');
    expect((await call(app, 'w-next-000000000000000', '203.0.113.6')).statusCode).toBe(429);
  });

  it('shares the count between API processes: a second process refuses without a lookup', async () => {
    const a = countingStore();
    const b = countingStore();
    const first = await producerApp(a, 'shared');
    const second = await producerApp(b, 'shared');
    for (let i = 0; i < LIMIT; i++) expect((await call(first, `shared-${i}-000000000000`, '203.0.113.7')).statusCode).toBe(403);
    const r = await call(second, 'shared-next-000000000000', '203.0.113.7');
    expect(r.statusCode).toBe(429);
    expect(b.lookups).toBe(0);
  });

  it('keeps a good token remembered through a flood of distinct wrong tokens from many addresses', async () => {
    const store = countingStore();
    const app = await producerApp(store, 'flood');
    expect((await call(app, GOOD, '198.51.100.10')).statusCode).toBe(200);
    const before = store.lookups;
    for (let i = 0; i < 1_500; i++) await call(app, `flood-${i}-0000000000000`, `10.${Math.floor(i / 1280)}.${Math.floor(i / 5) % 256}.${i % 5}`);
    expect(store.lookups - before).toBe(1_500);
    expect((await call(app, GOOD, '198.51.100.10')).statusCode).toBe(200);
    expect(store.lookups - before).toBe(1_500);
  });
  it('a burst of 30 concurrent requests with one good token, not yet cached: all get in, one lookup, the address is not throttled', async () => {
    const store = countingStore();
    const app = await producerApp(store, 'burst');
    const rs = await Promise.all(Array.from({ length: 30 }, () => call(app, GOOD, '203.0.113.9')));
    expect(rs.map((r) => r.statusCode)).toEqual(Array(30).fill(200));
    expect(store.lookups).toBe(1);
    // the address still has its whole allowance of failed attempts
    const wrong: number[] = [];
    for (let i = 0; i < LIMIT; i++) wrong.push((await call(app, `wrong-burst-${i}-00000000`, '203.0.113.9')).statusCode);
    expect(wrong).toEqual(Array(LIMIT).fill(403));
  });
});
