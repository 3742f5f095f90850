import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGenerationWorker, type GenerationWorker } from '../../workers/generation.js';
import { createRedisMetricsRecorder, type RedisMetricsRecorder } from '../../src/adapters/metrics/redis-recorder.js';
import { buildApiServer } from '../../src/api/server.js';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { openSystem, type System } from '../../src/system.js';
import { matchedConfigs } from '../helpers/fleets.js';
import { startStack, type Stack } from '../helpers/stack.js';

const PRO = 'gemini-2.5-pro';
const FLASH = 'gemini-2.5-flash';
const LIMITS = { [PRO]: { rpm: 100, tpm: 1_000_000, rpd: 1000 }, [FLASH]: { rpm: 100, tpm: 1_000_000, rpd: 1000 } };
const m = matchedConfigs({
  models: [PRO, FLASH],
  projects: { 'p-own': LIMITS, 'p-central': LIMITS },
  tenants: [{ id: 'acme', keyMode: 'own-then-central' }, { id: 'solo', keyMode: 'central-only' }],
  keys: [{ id: 'acme-1', tenant: 'acme', project: 'p-own' }, { id: 'central-1', tenant: null, project: 'p-central' }],
});

let stack: Stack;
let sys: System;
let worker: GenerationWorker;
let recorder: RedisMetricsRecorder;
let app: FastifyInstance;

/** the sum of every sample of `name` whose labels include `labels` */
function total(text: string, name: string, labels: Record<string, string> = {}): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const inner = line.includes('{') ? line.slice(line.indexOf('{') + 1, line.lastIndexOf('}')).split(',') : [];
    if (want.every((w) => inner.includes(w))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

beforeAll(async () => {
  stack = await startStack({ name: 'api-metrics', sim: m.sim });
  await stack.applyFleet(m.fleet);
  sys = await openSystem(parseConfig(stack.env), createLogger({ level: 'warn' }));
  // the wiring the lead puts in `quotaflow worker`: a recorder flushing to Redis
  recorder = createRedisMetricsRecorder(sys.redis, sys.config.prefix, { flushMs: 200 });
  worker = await startGenerationWorker(sys, { concurrency: 4, metrics: recorder });
  app = await buildApiServer(sys);
});

afterAll(async () => {
  await app?.close();
  await worker?.close(1_000);
  await recorder?.stop();
  await sys?.close();
  await stack?.stop();
});

describe('/metrics after a run against the stand-in', () => {
  it('shows traffic, tokens, latency, switches, fallbacks, quota, breakers and queue depth', async () => {
    const jobs = [
      ...Array.from({ length: 4 }, (_, i) => stack.client.generate({ tenantId: 'acme', contents: `own ${i}` }, { timeoutMs: 30_000 })),
      ...Array.from({ length: 3 }, (_, i) => stack.client.generate({ tenantId: 'solo', contents: `central ${i}` }, { timeoutMs: 30_000 })),
    ];
    await Promise.all(jobs);
    // pro now answers 503: jobs switch to flash and the pro breaker opens
    stack.sim.setFaults({ rules: [{ model: PRO, forceStatus: '503-overloaded' }] });
    const switched = await Promise.all(Array.from({ length: 4 }, (_, i) => stack.client.generate({ tenantId: 'solo', contents: `switch ${i}` }, { timeoutMs: 60_000 })));
    expect(switched.every((r) => r.model === FLASH)).toBe(true);
    await recorder.flush();

    const res = await app.inject({ url: '/metrics' });
    expect(res.statusCode).toBe(200);
    const t = res.body;
    expect(total(t, 'quotaflow_upstream_requests_total', { key: 'acme-1', model: PRO, outcome: 'success' })).toBe(4);
    expect(total(t, 'quotaflow_upstream_requests_total', { key: 'central-1', outcome: 'success' })).toBe(7);
    expect(total(t, 'quotaflow_upstream_requests_total', { model: PRO, outcome: 'overloaded' })).toBeGreaterThan(0);
    expect(total(t, 'quotaflow_upstream_tokens_total', { kind: 'prompt' })).toBeGreaterThan(0);
    expect(total(t, 'quotaflow_upstream_tokens_total', { kind: 'candidates' })).toBeGreaterThan(0);
    expect(total(t, 'quotaflow_upstream_latency_seconds_count', { model: PRO })).toBeGreaterThanOrEqual(7);
    expect(total(t, 'quotaflow_model_switches_total', { from: PRO, to: FLASH })).toBeGreaterThan(0);
    expect(total(t, 'quotaflow_jobs_total', { tenant: 'acme', outcome: 'completed' })).toBe(4);
    expect(total(t, 'quotaflow_central_fallbacks_total', { tenant: 'solo' })).toBe(7);
    expect(total(t, 'quotaflow_quota_used', { project: 'p-own', model: PRO, dimension: 'rpm' })).toBe(4);
    expect(total(t, 'quotaflow_quota_used', { project: 'p-own', model: PRO, dimension: 'rpd' })).toBe(4);
    expect(total(t, 'quotaflow_quota_used', { project: 'p-central', model: FLASH, dimension: 'tpm' })).toBeGreaterThan(0);
    expect(total(t, 'quotaflow_quota_limit', { project: 'p-own', model: PRO, dimension: 'rpm' })).toBe(100);
    expect(total(t, 'quotaflow_breaker_state', { project: 'p-own', model: PRO, state: 'closed' }) + total(t, 'quotaflow_breaker_state', { project: 'p-own', model: PRO, state: 'open' })).toBe(1);
    expect(total(t, 'quotaflow_queue_jobs', { state: 'completed' })).toBe(11);
    expect(total(t, 'quotaflow_keys', { state: 'enabled' })).toBe(2);
    expect(t).toContain('# TYPE quotaflow_cooldowns gauge');
    expect(t).toContain('# TYPE quotaflow_exclusions gauge');
    for (const id of ['acme-1', 'central-1']) expect(t).not.toContain(m.secretOf(id));
  });
});
