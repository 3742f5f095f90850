import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApiServer } from '../../src/api/server.js';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { openSystem, type System } from '../../src/system.js';
import { matchedConfigs } from '../helpers/fleets.js';
import { dumpRedis } from '../helpers/stack.js';
import { startAofRedis, type AofRedis } from './helpers/private-redis.js';
import { startRelStack, type RelStack } from './helpers/rel-stack.js';

/**
 * After a run that also exercises the error paths (a key the stand-in calls
 * invalid, failed jobs), no log, Redis key or value, job record, CLI output,
 * API response or dashboard page contains any key's secret.
 */
const PRO = 'gemini-2.5-pro';
const FLASH = 'gemini-2.5-flash';
const LIM = { [PRO]: { rpm: 1000, tpm: 10_000_000, rpd: 100_000 }, [FLASH]: { rpm: 1000, tpm: 10_000_000, rpd: 100_000 } };
const ADMIN = 'admin-token-reliability-000000001';
const TOKEN = 'tenant-token-alpha-00000001-Jx4kW9qE2';
const KEY_IDS = ['a1', 'a2', 'c1', 'c2'];
const base = matchedConfigs({
  models: [PRO, FLASH],
  projects: { pa: LIM, pc: LIM },
  tenants: [{ id: 'alpha', keyMode: 'own-then-central' }, { id: 'beta', keyMode: 'central-only' }],
  keys: KEY_IDS.map((id) => ({ id, tenant: id.startsWith('a') ? 'alpha' : null, project: id.startsWith('a') ? 'pa' : 'pc' })),
});
// a2's secret is one Google would call invalid: the key gets disabled, with logs and an alert
const cfg = matchedConfigs({
  models: [PRO, FLASH],
  projects: { pa: LIM, pc: LIM },
  tenants: [{ id: 'alpha', keyMode: 'own-then-central' }, { id: 'beta', keyMode: 'central-only' }],
  keys: KEY_IDS.map((id) => ({ id, tenant: id.startsWith('a') ? 'alpha' : null, project: id.startsWith('a') ? 'pa' : 'pc' })),
  sim: { invalidKeys: [base.secretOf('a2')] },
});
const fleet = cfg.fleet as { tenants: Array<Record<string, unknown>> };
fleet.tenants = fleet.tenants.map((t) => (t.id === 'alpha' ? { ...t, token: TOKEN } : t));
const SECRETS = KEY_IDS.map((id) => cfg.secretOf(id));

let redis: AofRedis;
let stack: RelStack;
let sys: System;
let app: FastifyInstance;
let apiLog = '';
const seen: Array<{ what: string; text: string }> = [];

beforeAll(async () => {
  redis = await startAofRedis();
  stack = await startRelStack({ name: 'secrets', sim: cfg.sim, redisUrl: redis.url, env: { QUOTAFLOW_ADMIN_TOKEN: ADMIN, LOG_LEVEL: 'debug' } });
  await stack.applyFleet(fleet);
  await stack.startWorker(['--concurrency', '4']);
  await stack.startWorker(['--concurrency', '4']);
  const sink = new Writable({ write: (chunk: Buffer, _enc, cb) => ((apiLog += chunk.toString()), cb()) });
  sys = await openSystem(parseConfig(stack.env), createLogger({ level: 'debug', destination: sink }));
  app = await buildApiServer(sys);
  const ids = await stack.enqueueAll([
    ...Array.from({ length: 30 }, (_, i) => ({ tenantId: i % 2 ? 'alpha' : 'beta', contents: `secret run ${i}` })),
    ...Array.from({ length: 3 }, () => ({ tenantId: 'alpha', contents: 'fails', models: ['gemini-9-unknown'] })),
  ]);
  await stack.waitSettled(ids.length, 120_000);
  const http = async (what: string, url: string, headers: Record<string, string> = { authorization: `Bearer ${ADMIN}` }): Promise<void> => {
    const r = await app.inject({ method: 'GET', url, headers });
    seen.push({ what: `${what} (${r.statusCode})`, text: r.body });
  };
  for (const id of ids.slice(0, 5).concat(ids.slice(-2))) await http(`GET /v1/generations/${id}`, `/v1/generations/${id}`, { authorization: `Bearer ${TOKEN}` });
  const post = await app.inject({ method: 'POST', url: '/v1/generations?wait=30', headers: { authorization: `Bearer ${TOKEN}` }, payload: { contents: 'over http' } });
  seen.push({ what: `POST /v1/generations (${post.statusCode})`, text: post.body });
  for (const url of ['/admin/api/fleet', '/admin/api/keys', '/admin/api/tenants', '/admin/api/projects', '/admin/api/limits', '/admin/api/exclusions', '/admin/api/cooldowns', '/dashboard/', '/dashboard/data.json', '/metrics', '/healthz', '/readyz', '/admin/queues/api/queues?activeQueue=generations&status=completed&page=1', '/admin/queues/api/queues?activeQueue=generations&status=failed&page=1']) {
    await http(url, url);
  }
  const status = await stack.cli(['status', '--json']);
  seen.push({ what: 'quotaflow status --json', text: status.stdout + status.stderr });
  const jobs = await stack.queue.getJobs(['completed', 'failed', 'active', 'waiting', 'delayed'], 0, -1);
  seen.push({ what: 'job records', text: JSON.stringify(jobs.map((j) => j.asJSON())) });
  seen.push({ what: 'redis', text: await dumpRedis(stack.redis, stack.prefix) });
  seen.push({ what: 'process logs', text: stack.logs() });
  seen.push({ what: 'api log', text: apiLog });
}, 300_000);

afterAll(async () => {
  await app?.close();
  await sys?.close();
  await stack?.stop();
  await redis?.destroy();
});

describe('no secret anywhere after a run', () => {
  it('the run went through the error paths (invalid key disabled, failed jobs, admin pages served)', () => {
    expect(stack.sim.stats().byStatus['400'] ?? 0).toBeGreaterThan(0);
    const keys = seen.find((s) => s.what.startsWith('/admin/api/keys'));
    expect(keys?.what).toContain('(200)');
    expect(keys?.text).toContain('a2');
    expect(seen.find((s) => s.what.startsWith('/dashboard/data.json'))?.what).toContain('(200)');
    expect(seen.find((s) => s.what === 'job records')?.text).toContain('invalid_request');
  });

  it.each(['process logs', 'api log', 'redis', 'job records', 'quotaflow status --json'])('%s hold no secret', (what) => {
    const part = seen.find((s) => s.what === what);
    expect(part?.text.length ?? 0).toBeGreaterThan(0);
    for (const s of SECRETS) expect(part?.text.includes(s), `${what} contains a secret`).toBe(false);
  });

  it('no API response or dashboard page holds a secret', () => {
    const pages = seen.filter((s) => s.what.startsWith('/') || s.what.startsWith('GET') || s.what.startsWith('POST'));
    expect(pages.length).toBeGreaterThan(15);
    for (const p of pages) for (const s of SECRETS) expect(p.text.includes(s), `${p.what} contains a secret`).toBe(false);
  });
});
