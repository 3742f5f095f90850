import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENERATION_JOB } from '../../src/adapters/queue/job-contract.js';
import { newJobId } from '../../src/adapters/queue/job-ids.js';
import { buildApiServer } from '../../src/api/server.js';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { FAIL_FAST, openSystem, type System } from '../../src/system.js';
import { matchedConfigs } from '../helpers/fleets.js';
import { startAofRedis, type AofRedis } from '../reliability/helpers/private-redis.js';
import { startRelStack, until, type RelStack } from '../reliability/helpers/rel-stack.js';

/**
 * A private Redis at its maxmemory (noeviction): enqueuing answers 503 with
 * Retry-After (not 500), /readyz reports memory pressure, the worker pauses
 * with a growing backoff instead of spinning on errors, and once Redis has
 * room again it serves the job that waited meanwhile.
 */
const FLASH = 'gemini-2.5-flash';
const TOKEN = 'tenant-token-beta-full-7Wc4Hn2Lq9';
const cfg = matchedConfigs({ models: [FLASH], projects: { pc: { [FLASH]: { rpm: 1000, tpm: 10_000_000, rpd: 100_000 } } }, tenants: [{ id: 'beta', keyMode: 'central-only' }], keys: [{ id: 'c1', tenant: null, project: 'pc' }] });
const fleet = cfg.fleet as { tenants: Array<Record<string, unknown>> };
fleet.tenants = fleet.tenants.map((t) => ({ ...t, token: TOKEN }));
const FILLER = 'x'.repeat(64 * 1024);
const OOM_LINE = 'Redis is out of memory: this worker stops taking jobs';
const count = (text: string, what: string): number => text.split(what).length - 1;

let redis: AofRedis;
let stack: RelStack;
let sys: System;
let app: FastifyInstance;
let jobId = '';
let fillers = 0;

const auth = { authorization: `Bearer ${TOKEN}` };

beforeAll(async () => {
  redis = await startAofRedis();
  stack = await startRelStack({ name: 'redis-full', sim: cfg.sim, redisUrl: redis.url });
  await stack.applyFleet(fleet);
  await stack.startWorker(['--concurrency', '2']);
  sys = await openSystem(parseConfig({ ...stack.env, LOG_LEVEL: 'warn' }), createLogger({ level: 'warn' }), { profile: FAIL_FAST });
  app = await buildApiServer(sys);
  await until(async () => (await app.inject({ method: 'GET', url: '/readyz' })).statusCode === 200, 60_000, 100);
  // a job due in a while: by then Redis is full, and the worker cannot take it
  jobId = newJobId('beta');
  await stack.queue.add(GENERATION_JOB, { request: { tenantId: 'beta', contents: 'waits out a full Redis' }, enqueuedAt: Date.now() } as never, { jobId, delay: 20_000 });
  const used = Number(/used_memory:(\d+)/.exec(await stack.redis.info('memory'))?.[1] ?? 0);
  await stack.redis.config('SET', 'maxmemory-policy', 'noeviction');
  await stack.redis.config('SET', 'maxmemory', String(used + 4 * 1024 * 1024));
  await fill();
}, 120_000);

/** Writes filler keys until Redis refuses with OOM (again: memory freed meanwhile is taken back). */
async function fill(): Promise<void> {
  for (;;) {
    const ok = await stack.redis.set(`filler:${fillers}`, FILLER).then(() => true, (err: unknown) => (err instanceof Error && err.message.startsWith('OOM') ? false : Promise.reject(err)));
    if (!ok) return;
    fillers++;
  }
}

afterAll(async () => {
  await app?.close();
  await sys?.close();
  await stack?.stop();
  await redis?.destroy();
});

describe('Redis at maxmemory', () => {
  it('was filled before the job came due', async () => {
    expect(fillers).toBeGreaterThan(0);
    expect(await stack.queue.getJobState(jobId)).toBe('delayed');
  });

  it('POST /v1/generations: 503 with Retry-After, not 500', async () => {
    const r = await app.inject({ method: 'POST', url: '/v1/generations', headers: auth, payload: { contents: 'while full' } });
    expect(r.statusCode, r.body).toBe(503);
    expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('/readyz: 503 reporting memory pressure', async () => {
    const r = await app.inject({ method: 'GET', url: '/readyz' });
    expect(r.statusCode).toBe(503);
    expect(r.json<{ redis: string }>().redis).toMatch(/memory pressure/);
  });

  it('the worker pauses with a backoff instead of spinning, and stays alive', async () => {
    // the job comes due; the worker's attempts to take it hit OOM (Redis kept full meanwhile: keys that
    // expire or are trimmed on a busy machine would otherwise let the worker take the job)
    const hit = await until(
      async () => {
        await fill();
        return stack.logs().includes(OOM_LINE);
      },
      90_000,
      200,
    );
    expect(hit, 'the worker logged no out-of-memory pause in 90 s').toBe(true);
    // Redis stays full for a while: whatever a worker or the API frees is filled again
    for (let i = 0; i < 30; i++) {
      await fill();
      await new Promise((r) => setTimeout(r, 500));
    }
    const pauses = count(stack.logs(), OOM_LINE);
    console.warn(`[redis-full] out-of-memory pauses logged in ~15 s or more: ${pauses}`);
    // a doubling backoff from 1 s pauses a handful of times in 15 s (generation and maintenance workers); a spinning worker logs on every fetch
    expect(pauses).toBeGreaterThan(0);
    expect(pauses).toBeLessThan(20);
    expect(count(stack.logs(), 'worker error')).toBeLessThan(50);
    expect(stack.workers.every((w) => w.child.exitCode === null)).toBe(true);
    // a ceiling for a hung run: the wait above alone may take up to 90 s, then ~15 s of refills
  }, 180_000);

  it('once Redis has room, the waiting job is served', async () => {
    for (let i = 0; i < fillers; i += 500) await stack.redis.del(...Array.from({ length: Math.min(500, fillers - i) }, (_, j) => `filler:${i + j}`));
    await until(async () => (await stack.queue.getJobState(jobId)) === 'completed', 120_000, 250);
    expect(await stack.queue.getJobState(jobId)).toBe('completed');
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
  });
});
