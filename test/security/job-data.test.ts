import type { FastifyInstance } from 'fastify';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENERATION_JOB, GENERATION_QUEUE } from '../../src/adapters/queue/job-contract.js';
import { newJobId } from '../../src/adapters/queue/job-ids.js';
import { redisKeys } from '../../src/adapters/redis/keys.js';
import { buildApiServer } from '../../src/api/server.js';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { openSystem, type System } from '../../src/system.js';
import { matchedConfigs } from '../helpers/fleets.js';
import { TEST_REDIS_URL } from '../helpers/redis.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { until } from '../helpers/tenants.js';

/**
 * Job data that is not what a producer writes — not JSON at all, null, a
 * string, an array, a wrong shape — stored straight in Redis: GET of the job
 * answers its state (never a 500, never a 503 quoting the stored text), the
 * events endpoint answers, and a worker fails each such job once with
 * invalid_request: no stall loop, no upstream call, the data never logged.
 */
const FLASH = 'gemini-2.5-flash';
const TOKEN = 'tenant-token-beta-jobdata-7Qm2vX9pLk4';
const cfg = matchedConfigs({ models: [FLASH], projects: { pc: { [FLASH]: { rpm: 1000, tpm: 10_000_000, rpd: 100_000 } } }, tenants: [{ id: 'beta', keyMode: 'central-only' }], keys: [{ id: 'c1', tenant: null, project: 'pc' }] });
const fleet = cfg.fleet as { tenants: Array<Record<string, unknown>> };
fleet.tenants = fleet.tenants.map((t) => ({ ...t, token: TOKEN }));

// each stored value carries a marker that must never reach a log
const CASES: Array<[string, (marker: string) => string]> = [
  ['not JSON', (m) => `{"request":{"tenantId":"beta","contents":"${m}`],
  ['null', () => 'null'],
  ['a string', (m) => JSON.stringify(`a string ${m}`)],
  ['an array', (m) => JSON.stringify([1, 2, m])],
  ['a wrong shape', (m) => JSON.stringify({ request: { tenantId: 'beta' }, enqueuedAt: 'yesterday', note: m })],
];
const markerOf = (i: number): string => `stored-data-marker-${i}-Zr8qW`;

let stack: Stack;
let sys: System;
let app: FastifyInstance;
let queue: Queue;

/** Adds a job for tenant beta whose stored data is `raw`, delayed by delayMs (time to overwrite its data first). */
async function addRaw(raw: string, delayMs: number): Promise<string> {
  const jobId = newJobId('beta');
  await queue.add(GENERATION_JOB, { placeholder: true }, { jobId, delay: delayMs });
  await stack.redis.hset(redisKeys(stack.prefix).job(GENERATION_QUEUE, jobId), 'data', raw);
  return jobId;
}

const auth = { authorization: `Bearer ${TOKEN}` };
const get = (url: string) => app.inject({ method: 'GET', url, headers: auth });

beforeAll(async () => {
  stack = await startStack({ name: 'job-data', sim: cfg.sim });
  await stack.applyFleet(fleet);
  await stack.startWorker(['--concurrency', '4']);
  sys = await openSystem(parseConfig({ ...stack.env, LOG_LEVEL: 'warn' }), createLogger({ level: 'warn' }));
  app = await buildApiServer(sys);
  queue = new Queue(GENERATION_QUEUE, { connection: { url: TEST_REDIS_URL }, prefix: stack.prefix });
}, 120_000);

afterAll(async () => {
  await queue?.close();
  await app?.close();
  await sys?.close();
  await stack?.stop();
});

describe('GET of a job whose data cannot be read as a request', () => {
  it.each(CASES.map(([name, make], i) => [name, make, i] as const))('%s: 200 with its state, the stored text not quoted', async (_name, make, i) => {
    const id = await addRaw(make(markerOf(i)), 3_600_000);
    const r = await get(`/v1/generations/${id}`);
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json()).toEqual({ jobId: id, state: 'delayed', attempts: [] });
    expect(r.body).not.toContain(markerOf(i));
    await queue.remove(id);
  });
});

describe('a worker given such a job', () => {
  it.each(CASES.map(([name, make], i) => [name, make, i] as const))('%s: failed once with invalid_request, no stall, no upstream call; GET and events answer', async (_name, make, i) => {
    const calls = stack.sim.stats().totalCalls;
    const id = await addRaw(make(markerOf(i)), 300);
    // a job BullMQ cannot parse used to stay active, stalling and being taken again: it must end failed
    await until(async () => (await stack.client.status(id))?.state === 'failed', `job ${id} to fail`, 45_000).catch(() => undefined);
    const r = await get(`/v1/generations/${id}`);
    expect(r.statusCode, r.body).toBe(200);
    const body = r.json<{ state: string; reason?: string }>();
    expect(body.state).toBe('failed');
    expect(body.reason).toBe('invalid_request');
    const [attempts, stalls] = await stack.redis.hmget(redisKeys(stack.prefix).job(GENERATION_QUEUE, id), 'atm', 'stc');
    expect(Number(attempts)).toBe(1);
    expect(Number(stalls ?? 0)).toBe(0);
    expect(stack.sim.stats().totalCalls).toBe(calls);

    const events = await get(`/v1/generations/${id}/events`);
    expect(events.statusCode, events.body).toBe(200);
    expect(events.body).toMatch(/event: error\ndata: .*invalid_request/);
    expect(events.body).not.toContain(markerOf(i));
    expect(stack.workers.every((w) => w.child.exitCode === null)).toBe(true);
  });

  it('no stored data reached any log', () => {
    const logs = stack.logs();
    expect(logs).toMatch(/malformed job rejected/);
    for (let i = 0; i < CASES.length; i++) expect(logs).not.toContain(markerOf(i));
  });

  it('and the worker still serves a good request', async () => {
    const r = await app.inject({ method: 'POST', url: '/v1/generations?wait=30', headers: auth, payload: { contents: 'good after bad data' } });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json<{ state: string }>().state).toBe('completed');
  });
});
