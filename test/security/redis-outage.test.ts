import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newJobId } from '../../src/adapters/queue/job-ids.js';
import { buildApiServer } from '../../src/api/server.js';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { FAIL_FAST, openSystem, type System } from '../../src/system.js';
import { matchedConfigs } from '../helpers/fleets.js';
import { startAofRedis, type AofRedis } from '../reliability/helpers/private-redis.js';
import { startRelStack, until, type RelStack } from '../reliability/helpers/rel-stack.js';

/**
 * Redis stopped under a running API process: POST, POST?wait, /metrics, the
 * dashboard data and GET of the tenant's own job answer 503 with
 * Retry-After (never a 500, never a hang), another tenant's job id still
 * answers 404 (known from the id alone), and nothing refused during the
 * outage is enqueued once Redis is back.
 */
const FLASH = 'gemini-2.5-flash';
const TOKEN = 'tenant-token-beta-outage-3Kd8pQ2wZr';
const ADMIN = 'admin-token-outage-0123456789abcdef';
const cfg = matchedConfigs({ models: [FLASH], projects: { pc: { [FLASH]: { rpm: 1000, tpm: 10_000_000, rpd: 100_000 } } }, tenants: [{ id: 'beta', keyMode: 'central-only' }, { id: 'acme', keyMode: 'central-only' }], keys: [{ id: 'c1', tenant: null, project: 'pc' }] });
const fleet = cfg.fleet as { tenants: Array<Record<string, unknown>> };
fleet.tenants = fleet.tenants.map((t) => (t.id === 'beta' ? { ...t, token: TOKEN } : t));

let redis: AofRedis;
let stack: RelStack;
let sys: System;
let app: FastifyInstance;
let ownJob = '';
let queuedBefore = 0;

const auth = { authorization: `Bearer ${TOKEN}` };
const queued = async (): Promise<number> => {
  const c = await stack.counts();
  return (c.waiting ?? 0) + (c.prioritized ?? 0) + (c.delayed ?? 0) + (c.active ?? 0);
};

function expect503(r: LightMyRequestResponse): void {
  expect(r.statusCode, r.body).toBe(503);
  expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
  expect(r.json<{ error: { code: string } }>().error.code).toBe('dependency_unavailable');
}

beforeAll(async () => {
  redis = await startAofRedis();
  stack = await startRelStack({ name: 'redis-outage', sim: cfg.sim, redisUrl: redis.url });
  await stack.applyFleet(fleet);
  // the profile `quotaflow api` runs with: commands fail at once instead of queueing while Redis is away
  sys = await openSystem(parseConfig({ ...stack.env, LOG_LEVEL: 'warn' }), createLogger({ level: 'warn' }), { profile: FAIL_FAST });
  app = await buildApiServer(sys, { adminToken: ADMIN });
  await until(async () => (await app.inject({ method: 'GET', url: '/readyz' })).statusCode === 200, 60_000, 100);
  // the tenant is known and has a job (no worker runs: it stays queued)
  const r = await app.inject({ method: 'POST', url: '/v1/generations', headers: auth, payload: { contents: 'before the outage' } });
  expect(r.statusCode, r.body).toBe(202);
  ownJob = r.json<{ jobId: string }>().jobId;
  expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
  queuedBefore = await queued();
  await redis.stop();
}, 120_000);

afterAll(async () => {
  await app?.close();
  await sys?.close();
  await stack?.stop();
  await redis?.destroy();
});

describe('with Redis stopped', () => {
  it('POST /v1/generations: 503 with Retry-After', async () => {
    expect503(await app.inject({ method: 'POST', url: '/v1/generations', headers: auth, payload: { contents: 'during the outage' } }));
  });

  it('POST /v1/generations?wait=5: 503 with Retry-After', async () => {
    expect503(await app.inject({ method: 'POST', url: '/v1/generations?wait=5', headers: auth, payload: { contents: 'during the outage, waiting' } }));
  });

  it('GET of the tenant\'s own job: 503 with Retry-After', async () => {
    expect503(await app.inject({ method: 'GET', url: `/v1/generations/${ownJob}`, headers: auth }));
  });

  it('GET of another tenant\'s job id: 404, Redis not needed', async () => {
    const r = await app.inject({ method: 'GET', url: `/v1/generations/${newJobId('acme')}`, headers: auth });
    expect(r.statusCode, r.body).toBe(404);
  });

  it('/metrics: 503 with Retry-After', async () => {
    expect503(await app.inject({ method: 'GET', url: '/metrics' }));
  });

  it('/dashboard/data.json: 503 with Retry-After', async () => {
    expect503(await app.inject({ method: 'GET', url: '/dashboard/data.json', headers: { authorization: `Bearer ${ADMIN}` } }));
  });

  it('/readyz: 503 naming Redis', async () => {
    const r = await app.inject({ method: 'GET', url: '/readyz' });
    expect(r.statusCode).toBe(503);
    expect(r.json<{ redis: string }>().redis).not.toBe('ok');
  });
});

describe('once Redis is back', () => {
  beforeAll(async () => {
    await redis.start();
    await until(async () => (await app.inject({ method: 'GET', url: '/readyz' })).statusCode === 200, 60_000, 200);
  }, 90_000);

  it('nothing refused during the outage was enqueued', async () => {
    // give any request held back in a queue somewhere the time to land
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await queued()).toBe(queuedBefore);
  });

  it('the API serves again: /metrics 200, the own job readable', async () => {
    expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
    const r = await app.inject({ method: 'GET', url: `/v1/generations/${ownJob}`, headers: auth });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json<{ state: string }>().state).toBe('waiting');
  });
});
