import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApiServer } from '../../src/api/server.js';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { openSystem, type System } from '../../src/system.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { TEST_REDIS_URL, dropPrefix, testPrefix } from '../helpers/redis.js';

const ADMIN = 'admin-token-security-0123456789';
const TENANT_TOKEN = 'tenant-token-acme-security-01-Xr8Kq2Lm';
const FLEET = {
  models: ['gemini-2.5-flash'],
  projects: [{ id: 'proj-a', tier: 'tier1' }],
  tenants: [{ id: 'acme', token: TENANT_TOKEN }],
  keys: [{ id: 'acme-1', tenant: 'acme', project: 'proj-a', secret: 'sk-security-test-0001' }],
};

let db: TestDatabase;
let sys: System;
let app: FastifyInstance;
let logs = '';
const prefix = testPrefix('api-admin-sec');
const auth = { authorization: `Bearer ${ADMIN}` };

beforeAll(async () => {
  db = await createTestDatabase();
  const config = parseConfig({ REDIS_URL: TEST_REDIS_URL, DATABASE_URL: db.url, QUOTAFLOW_PREFIX: prefix, QUOTAFLOW_SECRET: randomBytes(32).toString('hex'), QUOTAFLOW_ADMIN_TOKEN: ADMIN, QUOTAFLOW_TRUST_PROXY: '127.0.0.1', QUOTAFLOW_AUTH_FAILURE_LIMIT: '5', LOG_LEVEL: 'info' });
  const out = new PassThrough();
  out.on('data', (d: Buffer) => (logs += d.toString()));
  sys = await openSystem(config, createLogger({ level: 'info', destination: out }));
  app = await buildApiServer(sys);
  expect((await app.inject({ method: 'POST', url: '/admin/api/fleet', headers: auth, payload: FLEET })).statusCode).toBe(200);
});

afterAll(async () => {
  await app?.close();
  await sys?.close();
  await db?.drop();
  await dropPrefix(prefix);
});

describe('the API server, hardened', () => {
  it('never logs a token whose query name is encoded', async () => {
    for (const url of [`/dashboard?tok%65n=${ADMIN}`, `/dashboard?%74oken=${ADMIN}&x=1`, `/v1/generations?key=${TENANT_TOKEN}`, `/dashboard?token=${ADMIN}%zz`]) await app.inject({ url });
    expect(logs).toContain('tok%65n=[redacted]');
    expect(logs).toContain('[unparseable query]');
    expect(logs).not.toContain(ADMIN);
    expect(logs).not.toContain(TENANT_TOKEN);
  });

  it('logs out: the session cookie stops working', async () => {
    const first = await app.inject({ url: `/dashboard?token=${ADMIN}` });
    expect(first.statusCode).toBe(303);
    const cookie = String(first.headers['set-cookie']).split(';')[0] ?? '';
    expect((await app.inject({ url: '/dashboard/data.json', headers: { cookie } })).statusCode).toBe(200);
    expect((await app.inject({ method: 'POST', url: '/admin/logout', headers: { cookie } })).statusCode).toBe(204);
    expect((await app.inject({ url: '/dashboard/data.json', headers: { cookie } })).statusCode).toBe(403);
  });

  it('serves Bull Board read-only unless configured otherwise', async () => {
    const q = new Queue('generations', { connection: sys.redis, prefix });
    await q.add('generate', { request: { tenantId: 'acme', contents: 'x' }, enqueuedAt: Date.now() }, { jobId: 'sec-1', delay: 3_600_000 });
    await q.close();
    const r = await app.inject({ method: 'PUT', url: '/admin/queues/api/queues/generations/sec-1/promote', headers: auth });
    expect(r.statusCode).toBe(403);
    const edit = await app.inject({ method: 'PATCH', url: '/admin/queues/api/queues/generations/sec-1/update-data', headers: auth, payload: { data: { enqueuedAt: 0 } } });
    expect(edit.statusCode).toBe(403);
  });

  it('throttles by the address a trusted proxy reports, and by the socket otherwise', async () => {
    const wrong = (xff: string, remoteAddress = '127.0.0.1') => app.inject({ method: 'POST', url: '/v1/generations', headers: { authorization: 'Bearer wrong-tenant-token-000000', 'x-forwarded-for': xff }, payload: {}, remoteAddress });
    for (let i = 0; i < 5; i++) expect((await wrong('203.0.113.1')).statusCode).toBe(403);
    expect((await wrong('203.0.113.1')).statusCode).toBe(429);
    expect((await wrong('203.0.113.2')).statusCode).toBe(403);
    // an untrusted peer's x-forwarded-for is ignored: changing it does not start afresh
    for (let i = 0; i < 5; i++) await wrong(`198.51.100.${i}`, '192.0.2.7');
    expect((await wrong('198.51.100.99', '192.0.2.7')).statusCode).toBe(429);
    const ok = await app.inject({ url: '/v1/generations/none', headers: { authorization: `Bearer ${TENANT_TOKEN}`, 'x-forwarded-for': '203.0.113.3' } });
    expect(ok.statusCode).toBe(404);
  });
});
