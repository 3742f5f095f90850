import { createHash } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisKeys } from '../../src/adapters/redis/keys.js';
import { ADMIN_COOKIE, adminGuard, adminLogoutRoute } from '../../src/api/admin-auth.js';
import { createAuthThrottle } from '../../src/api/security/auth-throttle.js';
import { redisThrottleStore } from '../../src/api/security/redis-throttle-store.js';
import { redisSessionStore, type AdminSessionStore } from '../../src/api/security/session-store.js';
import { TEST_REDIS_URL, dropPrefix, testPrefix } from '../helpers/redis.js';

const TOKEN = 'admin-token-session-0123456789';
const TTL = 3_600_000;
const prefix = testPrefix('admin-session');
const keys = redisKeys(prefix);
let redis: Redis;
let sessions: AdminSessionStore;
let now = Date.now();
const clock = (): number => now;
const apps: FastifyInstance[] = [];

/** A small app: the admin guard, logout, a page and an API route, as the API server registers them. */
async function adminApp(adminToken: string | undefined): Promise<FastifyInstance> {
  const app = Fastify({ trustProxy: '127.0.0.1' });
  const throttle = (surface: string) => createAuthThrottle(redisThrottleStore(redis, keys, surface, 60_000), { limit: 1000, windowMs: 60_000 });
  await app.register(async (admin) => {
    admin.addHook('onRequest', adminGuard({ adminToken, sessions, throttle: throttle('admin'), throttleAll: throttle('admin-all'), sessionTtlMs: TTL, clock }));
    adminLogoutRoute(admin, sessions);
    admin.get('/dashboard/', async () => 'page');
    admin.get('/admin/api/keys', async () => ({ keys: [] }));
  });
  apps.push(app);
  return app;
}

const cookieOf = (setCookie: unknown): string => String(setCookie).split(';')[0] ?? '';
const sessionKey = (id: string): string => keys.adminSession(createHash('sha256').update(id).digest('hex'));

let app: FastifyInstance;

beforeAll(async () => {
  redis = new Redis(TEST_REDIS_URL);
  sessions = redisSessionStore(redis, keys, { clock });
  app = await adminApp(TOKEN);
});

afterAll(async () => {
  for (const a of apps) await a.close();
  redis?.disconnect();
  await dropPrefix(prefix);
});

async function login(target: FastifyInstance = app): Promise<{ cookie: string; id: string; header: string }> {
  const r = await target.inject({ url: `/dashboard/?token=${TOKEN}` });
  expect(r.statusCode).toBe(200);
  const header = String(r.headers['set-cookie']);
  const cookie = cookieOf(header);
  return { cookie, id: cookie.slice(ADMIN_COOKIE.length + 1), header };
}

describe('admin sessions', () => {
  it('opens a server-side session with a random id in an HttpOnly, SameSite=Strict cookie', async () => {
    const a = await login();
    const b = await login();
    expect(a.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.id).not.toBe(b.id);
    expect(a.header).not.toContain(TOKEN);
    expect(a.header).toMatch(/HttpOnly/);
    expect(a.header).toMatch(/SameSite=Strict/);
    expect(a.header).toMatch(/Path=\//);
    expect(a.header).not.toMatch(/Secure/);
    const ttl = await redis.pttl(sessionKey(a.id));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(TTL);
    const stored = await redis.get(sessionKey(a.id));
    expect(stored).not.toContain(TOKEN);
    expect(await redis.keys(`${prefix}:*${a.id}*`)).toEqual([]);
    expect((await app.inject({ url: '/admin/api/keys', headers: { cookie: a.cookie } })).statusCode).toBe(200);
  });

  it('marks the cookie Secure over HTTPS from a trusted proxy, and only then', async () => {
    const trusted = await app.inject({ url: `/dashboard/?token=${TOKEN}`, headers: { 'x-forwarded-proto': 'https' } });
    expect(String(trusted.headers['set-cookie'])).toMatch(/; Secure/);
    const untrusted = await app.inject({ url: `/dashboard/?token=${TOKEN}`, headers: { 'x-forwarded-proto': 'https' }, remoteAddress: '198.51.100.9' });
    expect(String(untrusted.headers['set-cookie'])).not.toMatch(/Secure/);
  });

  it('refuses the cookie once its session has expired, and tells the browser to drop it', async () => {
    const { cookie } = await login();
    now += TTL + 1;
    try {
      const r = await app.inject({ url: '/admin/api/keys', headers: { cookie } });
      expect(r.statusCode).toBe(403);
      expect(String(r.headers['set-cookie'])).toMatch(/^qf_admin=;.*Max-Age=0/);
    } finally {
      now -= TTL + 1;
    }
  });

  it('refuses every session opened before the admin token changed', async () => {
    const { cookie } = await login();
    const rotated = await adminApp('admin-token-rotated-9876543210');
    expect((await rotated.inject({ url: '/admin/api/keys', headers: { cookie } })).statusCode).toBe(403);
    expect((await app.inject({ url: '/admin/api/keys', headers: { cookie } })).statusCode).toBe(200);
  });

  it('ends the session on logout: the same cookie no longer works anywhere', async () => {
    const { cookie, id } = await login();
    const out = await app.inject({ method: 'POST', url: '/admin/logout', headers: { cookie } });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(/Max-Age=0/);
    expect(await redis.exists(sessionKey(id))).toBe(0);
    expect((await app.inject({ url: '/admin/api/keys', headers: { cookie } })).statusCode).toBe(403);
    expect((await app.inject({ url: '/dashboard/', headers: { cookie } })).statusCode).toBe(403);
  });

  it('no longer accepts the old fixed cookie (a digest of the token)', async () => {
    const old = createHash('sha256').update(`quotaflow-admin-session\u0000${TOKEN}`).digest('hex');
    expect((await app.inject({ url: '/admin/api/keys', headers: { cookie: `${ADMIN_COOKIE}=${old}` } })).statusCode).toBe(403);
  });

  it('opens a session for a bearer token on a page, not on an API call', async () => {
    const auth = `Bearer ${TOKEN}`;
    const page = await app.inject({ url: '/dashboard/', headers: { authorization: auth, accept: 'text/html,application/xhtml+xml' } });
    expect(page.statusCode).toBe(200);
    const cookie = cookieOf(page.headers['set-cookie']);
    expect((await app.inject({ url: '/admin/api/keys', headers: { cookie } })).statusCode).toBe(200);
    const api = await app.inject({ url: '/admin/api/keys', headers: { authorization: auth, accept: 'application/json' } });
    expect(api.statusCode).toBe(200);
    expect(api.headers['set-cookie']).toBeUndefined();
    const again = await app.inject({ url: '/dashboard/', headers: { authorization: auth, accept: 'text/html', cookie } });
    expect(again.headers['set-cookie']).toBeUndefined();
  });

  it('stays off (404) without an admin token, whatever the request carries', async () => {
    const off = await adminApp(undefined);
    const { cookie } = await login();
    expect((await off.inject({ url: '/admin/api/keys', headers: { cookie } })).statusCode).toBe(404);
    expect((await off.inject({ url: `/dashboard/?token=${TOKEN}` })).statusCode).toBe(404);
  });
});
