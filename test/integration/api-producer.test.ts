import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGenerationWorker, type GenerationWorker } from '../../workers/generation.js';
import { buildApiServer } from '../../src/api/server.js';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { startSimulator, type SimulatorHandle } from '../../src/simulator/index.js';
import { openSystem, type System } from '../../src/system.js';
import { matchedConfigs } from '../helpers/fleets.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { TEST_REDIS_URL, dropPrefix, testPrefix } from '../helpers/redis.js';

const ADMIN = 'admin-token-producer-0123456789';
const TOKENS = { acme: 'tenant-token-acme-000001-Qm7vR2xK9pL4', beta: 'tenant-token-beta-000002-Zt3hY6bN1cF5' };
const MODEL = 'gemini-2.5-flash';

let db: TestDatabase;
let sys: System;
let app: FastifyInstance;
let sim: SimulatorHandle;
let worker: GenerationWorker;
const prefix = testPrefix('api-producer');
const as = (tenant: keyof typeof TOKENS): Record<string, string> => ({ authorization: `Bearer ${TOKENS[tenant]}` });

beforeAll(async () => {
  const m = matchedConfigs({
    models: [MODEL],
    projects: { p1: { [MODEL]: { rpm: 100, tpm: 1_000_000, rpd: 1000 } } },
    tenants: [{ id: 'acme' }, { id: 'beta' }],
    keys: [{ id: 'k1', tenant: null, project: 'p1' }],
  });
  sim = await startSimulator(m.sim, { port: 0 });
  db = await createTestDatabase();
  const config = parseConfig({ REDIS_URL: TEST_REDIS_URL, DATABASE_URL: db.url, GEMINI_BASE_URL: sim.url, QUOTAFLOW_PREFIX: prefix, QUOTAFLOW_SECRET: randomBytes(32).toString('hex'), QUOTAFLOW_ADMIN_TOKEN: ADMIN, LOG_LEVEL: 'warn' });
  sys = await openSystem(config, createLogger({ level: 'warn' }));
  app = await buildApiServer(sys);
  const fleet = m.fleet as { tenants: Array<Record<string, unknown>> };
  fleet.tenants = [{ id: 'acme', keyMode: 'central-only', token: TOKENS.acme }, { id: 'beta', keyMode: 'central-only', token: TOKENS.beta }];
  const applied = await app.inject({ method: 'POST', url: '/admin/api/fleet', headers: { authorization: `Bearer ${ADMIN}` }, payload: fleet });
  expect(applied.statusCode).toBe(200);
  worker = await startGenerationWorker(sys, { concurrency: 2 });
});

afterAll(async () => {
  await worker?.close(1_000);
  await app?.close();
  await sys?.close();
  await sim?.close();
  await db?.drop();
  await dropPrefix(prefix);
});

describe('POST /v1/generations', () => {
  it('answers 401 without a token and 403 with an unknown one', async () => {
    expect((await app.inject({ method: 'POST', url: '/v1/generations', payload: { contents: 'hi' } })).statusCode).toBe(401);
    const r = await app.inject({ method: 'POST', url: '/v1/generations', headers: { authorization: 'Bearer not-a-real-token-000' }, payload: { contents: 'hi' } });
    expect(r.statusCode).toBe(403);
  });

  it('answers 400 with the problems of an invalid body', async () => {
    const r = await app.inject({ method: 'POST', url: '/v1/generations', headers: as('acme'), payload: { contents: '', temperature: 3 } });
    expect(r.statusCode).toBe(400);
    const issues: string[] = r.json().error.issues;
    expect(issues.some((i) => i.startsWith('contents'))).toBe(true);
    expect(issues.some((i) => i.includes('temperature'))).toBe(true);
    const notJson = await app.inject({ method: 'POST', url: '/v1/generations', headers: { ...as('acme'), 'content-type': 'application/json' }, payload: '{nope' });
    expect(notJson.statusCode).toBe(400);
    const badWait = await app.inject({ method: 'POST', url: '/v1/generations?wait=abc', headers: as('acme'), payload: { contents: 'hi' } });
    expect(badWait.json().error.message).toContain('wait must be');
  });

  it('refuses to enqueue for another tenant', async () => {
    const r = await app.inject({ method: 'POST', url: '/v1/generations', headers: as('acme'), payload: { tenantId: 'beta', contents: 'hi' } });
    expect(r.statusCode).toBe(403);
    expect(r.json().error.message).toContain('"acme"');
  });

  it('enqueues for the token\'s tenant and answers with the result when asked to wait', async () => {
    const r = await app.inject({ method: 'POST', url: '/v1/generations?wait=30', headers: as('acme'), payload: { contents: 'Where is my parcel?' } });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ state: 'completed', result: { model: MODEL, keyId: 'k1' } });
    expect(r.json().result.text).toContain('Where is my parcel?');
  });
});

describe('GET /v1/generations/:id', () => {
  it('shows a tenant its own job and hides it from another tenant', async () => {
    const e = await app.inject({ method: 'POST', url: '/v1/generations', headers: as('acme'), payload: { contents: 'status please', messageId: 'msg-1' } });
    expect(e.statusCode).toBe(202);
    const { jobId } = e.json() as { jobId: string };
    let state = '';
    for (let i = 0; i < 200 && state !== 'completed'; i++) {
      const s = await app.inject({ url: `/v1/generations/${jobId}`, headers: as('acme') });
      expect(s.statusCode).toBe(200);
      state = s.json().state;
      if (state !== 'completed') await new Promise((r) => setTimeout(r, 50));
    }
    expect(state).toBe('completed');
    const other = await app.inject({ url: `/v1/generations/${jobId}`, headers: as('beta') });
    expect(other.statusCode).toBe(404);
    expect(other.body).not.toContain('status please');
    expect((await app.inject({ url: '/v1/generations/no-such-job', headers: as('acme') })).statusCode).toBe(404);
    expect((await app.inject({ url: `/v1/generations/${jobId}` })).statusCode).toBe(401);
  });
});
