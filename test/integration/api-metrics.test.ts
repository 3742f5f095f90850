import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisMetricsRecorder } from '../../src/adapters/metrics/redis-recorder.js';
import { buildApiServer } from '../../src/api/server.js';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { openSystem, type System } from '../../src/system.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { TEST_REDIS_URL, dropPrefix, testPrefix } from '../helpers/redis.js';

const ADMIN = 'admin-token-metrics-0123456789';
let db: TestDatabase;
let sys: System;
let app: FastifyInstance;
let redis: Redis;
const prefix = testPrefix('api-metrics');

/** the value of one series line, e.g. series(text, 'quotaflow_jobs_total{tenant="a",...}') */
function value(text: string, name: string, labels: Record<string, string>): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const inner = line.slice(name.length + 1, line.lastIndexOf('}'));
    const got = inner.split(',');
    if (want.every((w) => got.includes(w))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

beforeAll(async () => {
  db = await createTestDatabase();
  const config = parseConfig({ REDIS_URL: TEST_REDIS_URL, DATABASE_URL: db.url, QUOTAFLOW_PREFIX: prefix, QUOTAFLOW_SECRET: randomBytes(32).toString('hex'), QUOTAFLOW_ADMIN_TOKEN: ADMIN, LOG_LEVEL: 'warn' });
  sys = await openSystem(config, createLogger({ level: 'warn' }));
  app = await buildApiServer(sys);
  redis = new Redis(TEST_REDIS_URL);
  const fleet = {
    models: ['m-pro', 'm-flash'],
    projects: [{ id: 'p1', tier: 'tier1', limits: { 'm-pro': { rpm: 10, tpm: 5000, rpd: 100 }, 'm-flash': { rpm: 20, tpm: 9000, rpd: 200 } } }],
    tenants: [{ id: 't1' }],
    keys: [{ id: 'k1', tenant: null, project: 'p1', secret: 'sk-metrics-test-000001' }],
  };
  expect((await app.inject({ method: 'POST', url: '/admin/api/fleet', headers: { authorization: `Bearer ${ADMIN}` }, payload: fleet })).statusCode).toBe(200);
});

afterAll(async () => {
  await app?.close();
  await sys?.close();
  redis?.disconnect();
  await db?.drop();
  await dropPrefix(prefix);
});

describe('metrics: recorders in several processes add up in Redis, /metrics shows them', () => {
  it('sums what two recorders report and renders counters and the latency histogram', async () => {
    const a = createRedisMetricsRecorder(redis, prefix, { flushMs: 60_000 });
    const b = createRedisMetricsRecorder(redis, prefix, { flushMs: 60_000 });
    const call = { model: 'm-pro', keyId: 'k1', projectId: 'p1', outcome: 'success', latencyMs: 300, promptTokens: 12, candidatesTokens: 30, central: true };
    a.upstream(call);
    b.upstream(call);
    b.upstream({ ...call, outcome: 'rate_minute', latencyMs: 40_000, promptTokens: 0, candidatesTokens: 0 });
    a.switched({ from: 'm-pro', to: 'm-flash' });
    a.finished({ tenantId: 't1', outcome: 'completed', central: true });
    b.finished({ tenantId: 't1', outcome: 'failed', reason: 'exhausted' });
    await Promise.all([a.stop(), b.stop()]);

    const r = await app.inject({ url: '/metrics' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toContain('text/plain');
    const t = r.body;
    expect(value(t, 'quotaflow_upstream_requests_total', { model: 'm-pro', key: 'k1', outcome: 'success' })).toBe(2);
    expect(value(t, 'quotaflow_upstream_requests_total', { model: 'm-pro', key: 'k1', outcome: 'rate_minute' })).toBe(1);
    expect(value(t, 'quotaflow_upstream_tokens_total', { key: 'k1', kind: 'prompt' })).toBe(24);
    expect(value(t, 'quotaflow_upstream_tokens_total', { key: 'k1', kind: 'candidates' })).toBe(60);
    expect(t).toMatch(/quotaflow_upstream_latency_seconds_bucket\{model="m-pro",le="0.5"\} 2/);
    expect(t).toMatch(/quotaflow_upstream_latency_seconds_bucket\{model="m-pro",le="\+Inf"\} 3/);
    expect(t).toMatch(/quotaflow_upstream_latency_seconds_count\{model="m-pro"\} 3/);
    expect(value(t, 'quotaflow_model_switches_total', { from: 'm-pro', to: 'm-flash' })).toBe(1);
    expect(value(t, 'quotaflow_jobs_total', { tenant: 't1', outcome: 'failed', reason: 'exhausted' })).toBe(1);
    expect(value(t, 'quotaflow_central_fallbacks_total', { tenant: 't1' })).toBe(1);
  });

  it('shows live quota, limits, cooldowns, breakers, keys and queue depth', async () => {
    await sys.limiter.admit('res-1', { rpm: 1, tpm: 100 }, [{ id: 'g', candidates: [{ scope: 'p1|m-pro', limits: { rpm: 10, tpm: 5000 } }] }]);
    await sys.limiter.block('p1|m-flash', 'cool', 30_000, 'rate_minute');
    await sys.ledger.reserve({ projectId: 'p1', model: 'm-pro', day: sys.day.dayId(Date.now()), limit: 100 });
    for (let i = 0; i < 3; i++) await sys.limiter.settle('p1|m-flash', `none-${i}`, { rpm: 1, tpm: 0 }, 'failure');
    const t = (await app.inject({ url: '/metrics' })).body;
    expect(value(t, 'quotaflow_quota_used', { project: 'p1', model: 'm-pro', dimension: 'rpm' })).toBe(1);
    expect(value(t, 'quotaflow_quota_used', { project: 'p1', model: 'm-pro', dimension: 'tpm' })).toBe(100);
    expect(value(t, 'quotaflow_quota_used', { project: 'p1', model: 'm-pro', dimension: 'rpd' })).toBe(1);
    expect(value(t, 'quotaflow_quota_limit', { project: 'p1', model: 'm-flash', dimension: 'tpm' })).toBe(9000);
    expect(value(t, 'quotaflow_scope_cooldown_seconds', { project: 'p1', model: 'm-flash' })).toBeGreaterThan(0);
    expect(value(t, 'quotaflow_cooldowns', {})).toBeUndefined(); // no labels: matched below
    expect(t).toMatch(/^quotaflow_cooldowns 1$/m);
    expect(value(t, 'quotaflow_breaker_state', { project: 'p1', model: 'm-flash', state: 'open' })).toBe(1);
    expect(value(t, 'quotaflow_breaker_state', { project: 'p1', model: 'm-pro', state: 'closed' })).toBe(1);
    expect(value(t, 'quotaflow_keys', { state: 'enabled' })).toBe(1);
    expect(value(t, 'quotaflow_queue_jobs', { state: 'waiting' })).toBe(0);
    expect(t).toContain('quotaflow_api_process_cpu_user_seconds_total');
  });

  it('keeps the number of fields bounded: label sets past the cap collapse into _other', async () => {
    const rec = createRedisMetricsRecorder(redis, `${prefix}-cap`, { flushMs: 60_000, maxFields: 3 });
    for (let i = 0; i < 50; i++) rec.finished({ tenantId: `tenant-${i}`, outcome: 'completed' });
    await rec.stop();
    const fields = await redis.hgetall(`${prefix}-cap:metrics:jobs`);
    expect(Object.keys(fields).length).toBeLessThanOrEqual(4);
    expect(Object.values(fields).reduce((n, v) => n + Number(v), 0)).toBe(50);
    expect(Object.keys(fields).some((f) => f.startsWith('_other|'))).toBe(true);
    await dropPrefix(`${prefix}-cap`);
  });
});
