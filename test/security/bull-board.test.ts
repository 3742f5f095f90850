import { Queue, Worker } from 'bullmq';
import Fastify, { type FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerBullBoard } from '../../src/api/bull-board.js';
import { TEST_REDIS_URL, dropPrefix, testPrefix } from '../helpers/redis.js';

const prefix = testPrefix('bull-board');
const BASE = '/admin/queues';
const Q = 'generations';
const API = `${BASE}/api/queues/${Q}`;
let redis: Redis;
let queue: Queue;
let readOnly: FastifyInstance;
let actions: FastifyInstance;
const DATA = { request: { tenantId: 'acme', contents: 'hello board' }, enqueuedAt: 1_700_000_000_000, apiKey: 'sk-never-shown-0001' };

async function board(withActions: boolean): Promise<FastifyInstance> {
  const app = Fastify();
  await registerBullBoard(app, [queue], BASE, { actions: withActions });
  return app;
}

/** A job that failed once, as the worker leaves it. */
async function failedJob(id: string): Promise<void> {
  await queue.add('generate', DATA, { jobId: id });
  const connection = redis.duplicate();
  const worker = new Worker(Q, async () => Promise.reject(new Error('upstream said no')), { connection, prefix, autorun: false });
  const failed = new Promise<void>((resolve) => worker.on('failed', (job) => job?.id === id && resolve()));
  void worker.run();
  try {
    await failed;
  } finally {
    await worker.close();
    connection.disconnect();
  }
}

beforeAll(async () => {
  redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  queue = new Queue(Q, { connection: redis, prefix });
  await failedJob('failed-1');
  await queue.add('generate', DATA, { jobId: 'delayed-1', delay: 3_600_000 });
  await queue.pause();
  await queue.add('generate', DATA, { jobId: 'waiting-1' });
  readOnly = await board(false);
  actions = await board(true);
});

afterAll(async () => {
  await readOnly?.close();
  await actions?.close();
  await queue?.close();
  redis?.disconnect();
  await dropPrefix(prefix);
});

describe('Bull Board, read-only by default', () => {
  it.each([
    ['PUT', `${API}/failed-1/retry`, undefined],
    ['PATCH', `${API}/waiting-1/update-data`, { data: { ...DATA, enqueuedAt: 0, state: { forged: true } } }],
    ['PUT', `${API}/delayed-1/promote`, undefined],
    ['PUT', `${API}/waiting-1/clean`, undefined],
    ['PATCH', `${API}/delayed-1/delay`, { delay: 0 }],
    ['PATCH', `${API}/waiting-1/priority`, { priority: 1 }],
    ['PUT', `${API}/retry/failed`, undefined],
    ['PUT', `${API}/promote`, undefined],
    ['PUT', `${API}/clean/failed`, undefined],
    ['PUT', `${API}/resume`, undefined],
    ['PUT', `${API}/empty`, undefined],
    ['PUT', `${API}/obliterate`, {}],
    ['POST', `${API}/add`, { name: 'generate', data: DATA }],
    ['PUT', `${BASE}/api/queues/resume`, undefined],
  ] as const)('refuses %s %s with 403', async (method, url, payload) => {
    const r = await readOnly.inject({ method, url, ...(payload ? { payload } : {}) });
    expect(r.statusCode).toBe(403);
    expect(r.json().error.message).toContain('QUOTAFLOW_BULL_BOARD_ACTIONS');
  });

  it('left every job and the queue as they were', async () => {
    expect(await (await queue.getJob('failed-1'))?.getState()).toBe('failed');
    expect(await (await queue.getJob('delayed-1'))?.getState()).toBe('delayed');
    const waiting = await queue.getJob('waiting-1');
    expect(await waiting?.getState()).toBe('waiting');
    expect(waiting?.data).toEqual(DATA);
    expect(await queue.isPaused()).toBe(true);
    expect(await queue.count()).toBe(2);
  });

  it('still shows the queues, with secret-looking fields redacted', async () => {
    const r = await readOnly.inject({ url: `${BASE}/api/queues?activeQueue=${Q}&status=failed&page=1` });
    expect(r.statusCode).toBe(200);
    expect(r.body).toContain('hello board');
    expect(r.body).toContain('[redacted]');
    expect(r.body).not.toContain(DATA.apiKey);
    expect(r.json().queues[0].readOnlyMode).toBe(true);
    const job = await readOnly.inject({ url: `${API}/failed-1` });
    expect(job.statusCode).toBe(200);
    expect(job.body).not.toContain(DATA.apiKey);
    expect((await readOnly.inject({ url: BASE })).statusCode).toBe(200);
  });

  it('allows actions when QUOTAFLOW_BULL_BOARD_ACTIONS is on', async () => {
    const r = await actions.inject({ method: 'PUT', url: `${API}/failed-1/retry` });
    expect(r.statusCode).toBeLessThan(300);
    expect(await (await queue.getJob('failed-1'))?.getState()).toBe('waiting');
  });
});
