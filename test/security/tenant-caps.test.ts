import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENERATION_QUEUE } from '../../src/adapters/queue/job-contract.js';
import { redisKeys } from '../../src/adapters/redis/keys.js';
import { buildApiServer } from '../../src/api/server.js';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { FAIL_FAST, openSystem, type System } from '../../src/system.js';
import { matchedConfigs } from '../helpers/fleets.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { until } from '../helpers/tenants.js';

/**
 * A tenant's caps on queued jobs and queued bytes: over them it gets 429 with
 * Retry-After while another tenant is still served; bytes are counted as
 * UTF-8, not characters; requests far beyond any sane shape (3,000 parts,
 * 1,500 contents, `deadlineMs: 1`) are refused with 400 and queue nothing;
 * ended jobs, completed or failed, are trimmed and free their tenant's caps.
 */
const FLASH = 'gemini-2.5-flash';
const MAX_JOBS = 5;
const MAX_BYTES = 4_096;
const TOKENS = { noisy: 'tenant-token-noisy-caps-8Hq3LmZ2xV', steady: 'tenant-token-steady-caps-4Rt7NpW9cK', wide: 'tenant-token-wide-caps-6Jy2BsQ5dF' };
const cfg = matchedConfigs({
  models: [FLASH],
  projects: { pc: { [FLASH]: { rpm: 1000, tpm: 10_000_000, rpd: 100_000 } } },
  tenants: Object.keys(TOKENS).map((id) => ({ id, keyMode: 'central-only' })),
  keys: [{ id: 'c1', tenant: null, project: 'pc' }],
});
const fleet = cfg.fleet as { tenants: Array<Record<string, unknown>> };
fleet.tenants = fleet.tenants.map((t) => ({ ...t, token: TOKENS[t.id as keyof typeof TOKENS] }));

let stack: Stack;
let sys: System;
let app: FastifyInstance;

const post = (tenant: keyof typeof TOKENS, payload: unknown, query = '') =>
  app.inject({ method: 'POST', url: `/v1/generations${query}`, headers: { authorization: `Bearer ${TOKENS[tenant]}` }, payload: payload as Record<string, unknown> });
/** BullMQ's own lists (the prefix is not hash-tagged on a single Redis) */
const bull = (name: string): string => `${stack.prefix}:${GENERATION_QUEUE}:${name}`;
const queuedJobs = async (): Promise<number> => (await stack.redis.llen(bull('wait'))) + (await stack.redis.zcard(bull('prioritized'))) + (await stack.redis.llen(bull('active')));

beforeAll(async () => {
  stack = await startStack({ name: 'tenant-caps', sim: cfg.sim, env: { QUOTAFLOW_TENANT_MAX_JOBS: String(MAX_JOBS), QUOTAFLOW_TENANT_MAX_BYTES: String(MAX_BYTES) } });
  await stack.applyFleet(fleet);
  sys = await openSystem(parseConfig({ ...stack.env, LOG_LEVEL: 'warn' }), createLogger({ level: 'warn' }), { profile: FAIL_FAST });
  app = await buildApiServer(sys);
  await until(async () => (await app.inject({ method: 'GET', url: '/readyz' })).statusCode === 200, 'the API to be ready');
}, 120_000);

afterAll(async () => {
  await app?.close();
  await sys?.close();
  await stack?.stop();
});

describe('caps on queued work (no worker yet: everything stays queued)', () => {
  it(`the ${MAX_JOBS + 1}th queued job: 429 with Retry-After; another tenant is still served`, async () => {
    for (let i = 0; i < MAX_JOBS; i++) expect((await post('noisy', { contents: `noisy ${i}` })).statusCode).toBe(202);
    const over = await post('noisy', { contents: 'one too many' });
    expect(over.statusCode, over.body).toBe(429);
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
    expect(over.body).toMatch(/has 5 jobs queued or running/);
    const other = await post('steady', { contents: 'steady while noisy is capped' });
    expect(other.statusCode, other.body).toBe(202);
  });

  it('bytes are counted as UTF-8: 1,000 euro signs are 3,000 bytes', async () => {
    const euros = '€'.repeat(1_000);
    expect((await post('wide', { contents: euros })).statusCode).toBe(202);
    // 2,000 characters in all, under 4,096; 6,000 bytes, over it
    const over = await post('wide', { contents: euros });
    expect(over.statusCode, over.body).toBe(429);
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
    expect(over.body).toMatch(/4096 bytes/);
    expect((await post('steady', { contents: 'steady while wide is capped' })).statusCode).toBe(202);
  });

  const absurd: Array<[string, () => unknown]> = [
    ['3,000 parts', () => ({ contents: [{ role: 'user', parts: Array.from({ length: 3_000 }, () => ({ text: 'p' })) }] })],
    ['1,500 contents', () => ({ contents: Array.from({ length: 1_500 }, (_, i) => ({ role: i % 2 ? 'model' : 'user', parts: [{ text: 't' }] })) })],
    ['deadlineMs: 1', () => ({ contents: 'too soon', deadlineMs: 1 })],
  ];
  it.each(absurd)('%s: 400 and nothing queued', async (_name, body) => {
    const before = await queuedJobs();
    const r = await post('steady', body());
    expect(r.statusCode, r.body).toBe(400);
    expect(await queuedJobs()).toBe(before);
  });
});

describe('ended jobs are trimmed and free their caps', () => {
  it('once a worker ran the queued jobs (and one failed), each is trimmed and the noisy tenant may queue again', async () => {
    const failing = await post('steady', { contents: 'an unknown model fails', models: ['gemini-9.9-nope'] });
    expect(failing.statusCode).toBe(202);
    const failedId = failing.json<{ jobId: string }>().jobId;
    await stack.startWorker(['--concurrency', '4']);
    await until(async () => (await queuedJobs()) === 0 && (await stack.client.status(failedId))?.state === 'failed', 'the queue to drain');
    const keys = redisKeys(stack.prefix);
    const ended = [...(await stack.redis.zrange(bull('completed'), 0, -1)), ...(await stack.redis.zrange(bull('failed'), 0, -1))];
    expect(ended).toContain(failedId);
    expect(ended.length).toBe(MAX_JOBS + 4);
    // trimming runs right after BullMQ records the end
    await until(async () => {
      const datas = await Promise.all(ended.map((id) => stack.redis.hget(keys.job(GENERATION_QUEUE, id), 'data')));
      return datas.every((d) => d !== null && (JSON.parse(d) as { ended?: boolean }).ended === true);
    }, 'every ended job to be trimmed');
    for (const id of ended) expect(await stack.redis.hget(keys.job(GENERATION_QUEUE, id), 'data')).not.toMatch(/€|noisy \d|unknown model fails/);
    // no job left in any tenant's outstanding hash, its job and byte counters back to zero
    for (const t of Object.keys(TOKENS)) {
      const out = await stack.redis.hgetall(keys.tenant(t).outstanding);
      expect(Object.keys(out).filter((k) => !k.startsWith('_')), t).toEqual([]);
      expect(Number(out._n ?? 0), t).toBe(0);
      expect(Number(out._b ?? 0), t).toBe(0);
    }
    for (let i = 0; i < MAX_JOBS; i++) expect((await post('noisy', { contents: `noisy again ${i}` })).statusCode).toBe(202);
    expect((await post('wide', { contents: '€'.repeat(1_000) })).statusCode).toBe(202);
  });
});
