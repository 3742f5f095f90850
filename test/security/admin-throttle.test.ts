import Fastify, { type FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisKeys } from '../../src/adapters/redis/keys.js';
import { adminGuard } from '../../src/api/admin-auth.js';
import { createAuthThrottle } from '../../src/api/security/auth-throttle.js';
import { redisThrottleStore } from '../../src/api/security/redis-throttle-store.js';
import { redisSessionStore } from '../../src/api/security/session-store.js';
import { TEST_REDIS_URL, dropPrefix, testPrefix } from '../helpers/redis.js';

const TOKEN = 'admin-token-throttle-0123456789';
const LIMIT = 10;
const LIMIT_ALL = 15;
const prefix = testPrefix('admin-throttle');
const keys = redisKeys(prefix);
let redis: Redis;
const apps: FastifyInstance[] = [];

/** The admin guard over one route, its counters under `surface` so each test starts afresh. */
async function adminApp(surface: string): Promise<FastifyInstance> {
  const app = Fastify();
  const throttle = (name: string, limit: number) => createAuthThrottle(redisThrottleStore(redis, keys, `${surface}-${name}`, 60_000), { limit, windowMs: 60_000 });
  await app.register(async (admin) => {
    admin.addHook('onRequest', adminGuard({ adminToken: TOKEN, sessions: redisSessionStore(redis, keys), throttle: throttle('admin', LIMIT), throttleAll: throttle('all', LIMIT_ALL), sessionTtlMs: 60_000 }));
    admin.get('/admin/api/keys', async () => ({ keys: [] }));
  });
  apps.push(app);
  return app;
}

const bearer = (app: FastifyInstance, token: string, remoteAddress: string) => app.inject({ url: '/admin/api/keys', headers: { authorization: `Bearer ${token}` }, remoteAddress });

beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL);
});

afterAll(async () => {
  for (const a of apps) await a.close();
  redis?.disconnect();
  await dropPrefix(prefix);
});

describe('failed admin authentication', () => {
  it('answers 429 with Retry-After after the limit, even to the right token from that address; other addresses get in', async () => {
    const app = await adminApp('addr');
    for (let i = 0; i < LIMIT; i++) expect((await bearer(app, `wrong-admin-token-${i}-0000`, '203.0.113.1')).statusCode).toBe(403);
    const r = await bearer(app, 'wrong-admin-token-next-000', '203.0.113.1');
    expect(r.statusCode).toBe(429);
    expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await bearer(app, TOKEN, '203.0.113.1')).statusCode).toBe(429);
    expect((await bearer(app, TOKEN, '198.51.100.2')).statusCode).toBe(200);
  });

  it('counts wrong ?token= and forged session cookies against the address too', async () => {
    const app = await adminApp('mixed');
    for (let i = 0; i < LIMIT / 2; i++) expect((await app.inject({ url: `/admin/api/keys?token=wrong-${i}`, remoteAddress: '203.0.113.3' })).statusCode).toBe(403);
    for (let i = 0; i < LIMIT / 2; i++) expect((await app.inject({ url: '/admin/api/keys', headers: { cookie: `qf_admin=forged-${i}` }, remoteAddress: '203.0.113.3' })).statusCode).toBe(403);
    expect((await app.inject({ url: `/admin/api/keys?token=${TOKEN}`, remoteAddress: '203.0.113.3' })).statusCode).toBe(429);
  });

  it('limits wrong tokens from all addresses together, while open sessions keep working', async () => {
    const app = await adminApp('all');
    const login = await app.inject({ url: `/admin/api/keys?token=${TOKEN}`, remoteAddress: '192.0.2.50' });
    const cookie = String(login.headers['set-cookie']).split(';')[0] ?? '';
    for (let i = 0; i < LIMIT_ALL; i++) await bearer(app, `wrong-admin-token-${i}-0000`, `203.0.113.${10 + Math.floor(i / 5)}`);
    const r = await bearer(app, TOKEN, '192.0.2.51');
    expect(r.statusCode).toBe(429);
    expect(r.headers['retry-after']).toBeDefined();
    expect((await app.inject({ url: '/admin/api/keys', headers: { cookie }, remoteAddress: '192.0.2.50' })).statusCode).toBe(200);
  });

  it('never counts successes', async () => {
    const app = await adminApp('ok');
    for (let i = 0; i < 3 * LIMIT_ALL; i++) expect((await bearer(app, TOKEN, '203.0.113.20')).statusCode).toBe(200);
  });
});
