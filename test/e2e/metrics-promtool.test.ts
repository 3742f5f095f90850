import { spawnSync } from 'node:child_process';
import type { FastifyInstance } from 'fastify';
import { Queue } from 'bullmq';
import { GENERATION_QUEUE } from '../../src/adapters/queue/job-contract.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGenerationWorker, type GenerationWorker } from '../../workers/generation.js';
import { createRedisMetricsRecorder, type RedisMetricsRecorder } from '../../src/adapters/metrics/redis-recorder.js';
import { GenerationFailedError } from '../../src/adapters/queue/client.js';
import { buildApiServer } from '../../src/api/server.js';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { openSystem, type System } from '../../src/system.js';
import { matchedConfigs } from '../helpers/fleets.js';
import { startStack, type Stack } from '../helpers/stack.js';

/**
 * A real /metrics page after real traffic passes `promtool check metrics`
 * (the Prometheus project's own linter), its tenant label is bounded by the
 * fleet, and QUOTAFLOW_METRICS_TOKEN guards it.
 */
const FLASH = 'gemini-2.5-flash';
const METRICS_TOKEN = 'metrics-token-0123456789abcdef';
const m = matchedConfigs({
  models: [FLASH],
  projects: { 'p-1': { [FLASH]: { rpm: 100, tpm: 1_000_000, rpd: 1000 } } },
  tenants: [{ id: 'acme', keyMode: 'central-only' }],
  keys: [{ id: 'central-1', tenant: null, project: 'p-1' }],
});

/** promtool from PATH; the Debian package `prometheus` provides it (.ci/run installs it). */
function findPromtool(): string | undefined {
  const r = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? 'promtool' : undefined;
}

const promtool = findPromtool();
let stack: Stack;
let sys: System;
let worker: GenerationWorker;
let recorder: RedisMetricsRecorder;
let app: FastifyInstance;

beforeAll(async () => {
  stack = await startStack({ name: 'metrics-promtool', sim: m.sim });
  await stack.applyFleet(m.fleet);
  sys = await openSystem(parseConfig({ ...stack.env, QUOTAFLOW_METRICS_TOKEN: METRICS_TOKEN }), createLogger({ level: 'warn' }));
  recorder = createRedisMetricsRecorder(sys.redis, sys.config.prefix, { flushMs: 200 });
  worker = await startGenerationWorker(sys, { concurrency: 4, metrics: recorder });
  app = await buildApiServer(sys);
  await Promise.all(Array.from({ length: 3 }, (_, i) => stack.client.generate({ tenantId: 'acme', contents: `hello ${i}` }, { timeoutMs: 30_000 })));
  // tenants the fleet does not know: each would otherwise be a new label value
  // (added straight to the queue, as another tool might: producers refuse unknown tenants themselves)
  const raw = new Queue(GENERATION_QUEUE, { connection: sys.redis, prefix: sys.config.prefix });
  for (const ghost of ['ghost-1', 'ghost-2']) {
    const job = await raw.add('generate', { request: { tenantId: ghost, contents: 'hi', lane: 'interactive', stream: false }, enqueuedAt: Date.now() }, { priority: 1 });
    await expect(stack.client.wait(job.id ?? '', { timeoutMs: 30_000 })).rejects.toBeInstanceOf(GenerationFailedError);
  }
  await raw.close();
  await recorder.flush();
});

afterAll(async () => {
  await app?.close();
  await worker?.close(1_000);
  await recorder?.stop();
  await sys?.close();
  await stack?.stop();
});

const scrape = (authorization?: string) => app.inject({ url: '/metrics', headers: authorization ? { authorization } : {} });

describe('/metrics', () => {
  it('asks for the metrics token when one is configured', async () => {
    expect((await scrape()).statusCode).toBe(401);
    expect((await scrape('Bearer wrong-token-0000000000')).statusCode).toBe(403);
    expect((await scrape(`Bearer ${METRICS_TOKEN}`)).statusCode).toBe(200);
  });

  it('counts jobs of tenants unknown to the fleet under tenant="_unknown"', async () => {
    const page = (await scrape(`Bearer ${METRICS_TOKEN}`)).body;
    expect(page).toMatch(/^quotaflow_jobs_total\{tenant="acme",outcome="completed",reason=""\} 3$/m);
    expect(page).toMatch(/^quotaflow_jobs_total\{tenant="_unknown",outcome="failed",reason="invalid_request"\} 2$/m);
    expect(page).not.toContain('ghost-');
  });

  it.skipIf(!promtool)('passes `promtool check metrics` (skipped when promtool is missing: apt-get install -y prometheus)', async () => {
    const page = (await scrape(`Bearer ${METRICS_TOKEN}`)).body;
    expect(page).toContain('quotaflow_upstream_requests_total');
    expect(page).toContain('quotaflow_api_process_cpu_seconds_total');
    const r = spawnSync(promtool ?? 'promtool', ['check', 'metrics'], { input: page, encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
