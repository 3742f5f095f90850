import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApiServer } from '../../src/api/server.js';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { openSystem, type System } from '../../src/system.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { TEST_REDIS_URL, dropPrefix, testPrefix } from '../helpers/redis.js';

const ADMIN = 'admin-token-0123456789abcdef';
const SECRETS = ['sk-admin-test-acme-0001', 'sk-admin-test-central-0002', 'sk-admin-test-added-0003'];
const FLEET = {
  models: ['gemini-2.5-pro', 'gemini-2.5-flash'],
  projects: [{ id: 'proj-a', tier: 'tier1', limits: { 'gemini-2.5-pro': { rpm: 7, tpm: 1000, rpd: 50 } } }, { id: 'proj-c', tier: 'tier1' }],
  tenants: [{ id: 'acme', token: 'tenant-token-acme-0001-Qm7vR2xK9pL4sW8n' }, { id: 'solo', keyMode: 'central-only' }],
  keys: [
    { id: 'acme-1', tenant: 'acme', project: 'proj-a', secret: SECRETS[0] },
    { id: 'central-1', tenant: null, project: 'proj-c', secret: SECRETS[1] },
  ],
};

let db: TestDatabase;
let sys: System;
let app: FastifyInstance;
let logs = '';
const prefix = testPrefix('api-admin');
const auth = { authorization: `Bearer ${ADMIN}` };

beforeAll(async () => {
  db = await createTestDatabase();
  const config = parseConfig({ REDIS_URL: TEST_REDIS_URL, DATABASE_URL: db.url, QUOTAFLOW_PREFIX: prefix, QUOTAFLOW_SECRET: randomBytes(32).toString('hex'), QUOTAFLOW_ADMIN_TOKEN: ADMIN, LOG_LEVEL: 'debug' });
  const out = new PassThrough();
  out.on('data', (d: Buffer) => (logs += d.toString()));
  sys = await openSystem(config, createLogger({ level: 'debug', destination: out }));
  app = await buildApiServer(sys);
});

afterAll(async () => {
  await app?.close();
  await sys?.close();
  await db?.drop();
  await dropPrefix(prefix);
});

describe('admin auth', () => {
  it('answers 401 without a token and 403 with a wrong one, on every admin surface', async () => {
    for (const url of ['/admin/api/keys', '/admin/queues', '/dashboard', '/dashboard/data.json']) {
      expect((await app.inject({ url })).statusCode).toBe(401);
      expect((await app.inject({ url, headers: { authorization: 'Bearer wrong-token-000000000' } })).statusCode).toBe(403);
      expect((await app.inject({ url, headers: { cookie: 'qf_admin=forged' } })).statusCode).toBe(403);
    }
    expect((await app.inject({ method: 'POST', url: '/admin/api/fleet', payload: FLEET })).statusCode).toBe(401);
  });

  it('is off (404) when no admin token is configured', async () => {
    const off = await buildApiServer(sys, { adminToken: undefined });
    try {
      const r = await off.inject({ url: '/admin/api/keys', headers: auth });
      expect(r.statusCode).toBe(404);
      expect(r.json().error.code).toBe('admin_disabled');
      expect((await off.inject({ url: '/dashboard', headers: auth })).statusCode).toBe(404);
    } finally {
      await off.close();
    }
  });
});

describe('fleet and keys', () => {
  it('rejects an invalid fleet with 400 naming the problem', async () => {
    const r = await app.inject({ method: 'POST', url: '/admin/api/fleet', headers: auth, payload: { ...FLEET, keys: [{ id: 'x', tenant: 'nobody', secret: 'abc' }] } });
    expect(r.statusCode).toBe(400);
    expect(r.json().error.issues).toContain('keys.0: unknown tenant "nobody"');
  });

  it('applies a fleet, announces it, and lists keys with fingerprints only', async () => {
    const r = await app.inject({ method: 'POST', url: '/admin/api/fleet', headers: auth, payload: FLEET });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ changed: true, keys: { created: 2 } });
    expect(await sys.redis.get(`${prefix}:fleet:version`)).toBe(r.json().version);
    const keys = await app.inject({ url: '/admin/api/keys', headers: auth });
    expect(keys.json().keys.map((k: { id: string }) => k.id)).toEqual(['acme-1', 'central-1']);
    expect(keys.json().keys[0].fingerprint).toMatch(/^sha256:[0-9a-f]{12}$/);
    expect(keys.body).not.toContain(SECRETS[0]);
  });

  it('adds a key (secret write-only), refuses a duplicate, and validates the body', async () => {
    const bad = await app.inject({ method: 'POST', url: '/admin/api/keys', headers: auth, payload: { id: 'k2' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.issues.join()).toContain('secret');
    const ok = await app.inject({ method: 'POST', url: '/admin/api/keys', headers: auth, payload: { id: 'added-1', tenant: 'acme', project: 'proj-a', secret: SECRETS[2] } });
    expect(ok.statusCode).toBe(201);
    expect(ok.json().key).toMatchObject({ id: 'added-1', tenantId: 'acme', enabled: true });
    expect(ok.body).not.toContain(SECRETS[2]);
    const dup = await app.inject({ method: 'POST', url: '/admin/api/keys', headers: auth, payload: { id: 'added-2', secret: SECRETS[2] } });
    expect(dup.statusCode).toBe(400);
    expect(dup.json().error.message).toContain('same secret as key "added-1"');
    expect((await sys.fleetSource.load()).keys.map((k) => k.id)).toContain('added-1');
  });

  it('disables and enables a key; unknown keys are 404', async () => {
    const d = await app.inject({ method: 'POST', url: '/admin/api/keys/added-1/disable', headers: auth, payload: { reason: 'rotating' } });
    expect(d.statusCode).toBe(200);
    expect(d.json().key).toMatchObject({ enabled: false, disabledReason: 'rotating', disabledBy: 'admin' });
    expect((await sys.fleetSource.load()).keys.find((k) => k.id === 'added-1')?.enabled).toBe(false);
    const e = await app.inject({ method: 'POST', url: '/admin/api/keys/added-1/enable', headers: auth });
    expect(e.json()).toMatchObject({ changed: true, key: { enabled: true } });
    expect((await app.inject({ method: 'POST', url: '/admin/api/keys/nope/disable', headers: auth })).statusCode).toBe(404);
    expect((await app.inject({ method: 'POST', url: '/admin/api/keys/nope/enable', headers: auth })).statusCode).toBe(404);
  });

  it('lists tenants (never their token) and limits with their source', async () => {
    const t = await app.inject({ url: '/admin/api/tenants', headers: auth });
    expect(t.json().tenants).toEqual([
      { id: 'acme', keyMode: 'own-then-central', models: null, hasToken: true },
      { id: 'solo', keyMode: 'central-only', models: null, hasToken: false },
    ]);
    expect(t.body).not.toContain('tenant-token-acme');
    const l = await app.inject({ url: '/admin/api/limits', headers: auth });
    const pro = l.json().effective.find((x: { projectId: string; model: string }) => x.projectId === 'proj-a' && x.model === 'gemini-2.5-pro');
    expect(pro).toMatchObject({ rpm: 7, tpm: 1000, rpd: 50, sources: { rpm: 'configured' } });
  });
});

describe('exclusions and cooldowns', () => {
  it('lists and clears an exclusion (row and Redis block)', async () => {
    await sys.records.excludeScope({ projectId: 'proj-a', model: 'gemini-2.5-pro', reason: 'rate_day', until: new Date(Date.now() + 3_600_000), detail: 'test' });
    await sys.restoreBlocks();
    const list = await app.inject({ url: '/admin/api/exclusions', headers: auth });
    expect(list.json().exclusions).toHaveLength(1);
    expect(list.json().exclusions[0].msLeft).toBeGreaterThan(0);
    const del = await app.inject({ method: 'DELETE', url: '/admin/api/exclusions/proj-a/gemini-2.5-pro', headers: auth });
    expect(del.json()).toEqual({ cleared: 1 });
    expect((await sys.limiter.blocks('proj-a|gemini-2.5-pro')).dayMs).toBeNull();
    expect((await app.inject({ url: '/admin/api/exclusions', headers: auth })).json().exclusions).toHaveLength(0);
  });

  it('lists and clears a cooldown', async () => {
    await sys.limiter.block('proj-c|gemini-2.5-flash', 'cool', 60_000, 'rate_minute');
    const list = await app.inject({ url: '/admin/api/cooldowns', headers: auth });
    expect(list.json().cooldowns).toEqual([expect.objectContaining({ projectId: 'proj-c', model: 'gemini-2.5-flash' })]);
    await app.inject({ method: 'DELETE', url: '/admin/api/cooldowns/proj-c/gemini-2.5-flash', headers: auth });
    expect((await app.inject({ url: '/admin/api/cooldowns', headers: auth })).json().cooldowns).toEqual([]);
  });
});

describe('Bull Board, dashboard, health', () => {
  it('serves Bull Board behind the admin token with secret-looking fields hidden', async () => {
    const { Queue } = await import('bullmq');
    const q = new Queue('generations', { connection: sys.redis, prefix });
    await q.add('generate', { request: { tenantId: 'acme', contents: 'hello board' }, enqueuedAt: Date.now(), apiKey: SECRETS[1] }, { jobId: 'board-1' });
    await q.close();
    const page = await app.inject({ url: '/admin/queues', headers: auth });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<html');
    const api = await app.inject({ url: '/admin/queues/api/queues?activeQueue=generations&status=waiting&page=1', headers: auth });
    expect(api.statusCode).toBe(200);
    expect(api.body).toContain('hello board');
    expect(api.body).toContain('[redacted]');
    expect(api.body).not.toContain(SECRETS[1]);
  });

  it('gives the dashboard a cookie for ?token= and serves its data with it', async () => {
    const first = await app.inject({ url: `/dashboard?token=${ADMIN}` });
    expect(first.statusCode).toBe(303);
    const cookie = String(first.headers['set-cookie']).split(';')[0] ?? '';
    expect(cookie).not.toContain(ADMIN);
    const page = await app.inject({ url: '/dashboard/', headers: { cookie } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('quota dashboard');
    const data = await app.inject({ url: '/dashboard/data.json', headers: { cookie } });
    expect(data.statusCode).toBe(200);
    const d = data.json();
    expect(d.scopes.find((s: { projectId: string; model: string }) => s.projectId === 'proj-a' && s.model === 'gemini-2.5-pro').rpm.limit).toBe(7);
    expect(d.keys.map((k: { id: string }) => k.id)).toContain('acme-1');
    expect(d.tenants.map((t: { tenantId: string }) => t.tenantId)).toEqual(['acme', 'solo']);
    expect(data.body).not.toContain(SECRETS[0]);
  });

  it('answers /healthz and /readyz', async () => {
    expect((await app.inject({ url: '/healthz' })).json()).toEqual({ ok: true });
    expect((await app.inject({ url: '/readyz' })).json()).toEqual({ ok: true, redis: 'ok', postgres: 'ok' });
  });

  it('never logged a secret or a token', () => {
    expect(logs).toContain('request');
    for (const s of [...SECRETS, ADMIN, 'tenant-token-acme-0001-Qm7vR2xK9pL4sW8n']) expect(logs).not.toContain(s);
  });
});
