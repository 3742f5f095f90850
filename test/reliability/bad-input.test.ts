import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GenerationFailedError } from '../../src/adapters/queue/client.js';
import { GENERATION_JOB } from '../../src/adapters/queue/job-contract.js';
import { buildApiServer } from '../../src/api/server.js';
import { parseConfig } from '../../src/config.js';
import { UnknownTenantError, ValidationError } from '../../src/errors.js';
import { createLogger } from '../../src/logger.js';
import { openSystem, type System } from '../../src/system.js';
import { matchedConfigs } from '../helpers/fleets.js';
import { startAofRedis, type AofRedis } from './helpers/private-redis.js';
import { startRelStack, type RelStack } from './helpers/rel-stack.js';

/** Bad input gets a clear error and disturbs nothing else. */
const FLASH = 'gemini-2.5-flash';
const LIM = { [FLASH]: { rpm: 1000, tpm: 50_000_000, rpd: 100_000 } };
const TOKEN = 'tenant-token-beta-0000001-Pd8sL3mV6rT';
const cfg = matchedConfigs({
  models: [FLASH],
  projects: { pc: LIM, pb: LIM },
  tenants: [{ id: 'beta', keyMode: 'central-only' }, { id: 'acme', keyMode: 'own-only' }],
  keys: [{ id: 'c1', tenant: null, project: 'pc' }, { id: 'b1', tenant: 'acme', project: 'pb' }],
});
const fleet = cfg.fleet as { tenants: Array<Record<string, unknown>>; keys: Array<Record<string, unknown>>; projects: Array<Record<string, unknown>> };
fleet.tenants = fleet.tenants.map((t) => (t.id === 'beta' ? { ...t, token: TOKEN } : t));
const TEN_MB = 'x'.repeat(10 * 1024 * 1024);

let redis: AofRedis;
let stack: RelStack;

/** one good message still answered: the system kept serving */
async function stillServing(tag: string): Promise<void> {
  const r = await stack.client.generate({ tenantId: 'beta', contents: `good ${tag}` }, { timeoutMs: 60_000 });
  expect(r.text.length).toBeGreaterThan(0);
}

beforeAll(async () => {
  redis = await startAofRedis();
  stack = await startRelStack({ name: 'bad-input', sim: cfg.sim, redisUrl: redis.url });
  await stack.applyFleet(fleet);
  await stack.startWorker(['--concurrency', '4']);
  await stack.startWorker(['--concurrency', '4']);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await redis?.destroy();
});

describe('malformed requests through the client', () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['missing tenant', { contents: 'hi' }, /tenantId/],
    ['wrong types', { tenantId: 42, contents: 7, deadlineMs: 'soon' }, /tenantId[\s\S]*contents[\s\S]*deadlineMs/],
    ['a 10 MB prompt', { tenantId: 'beta', contents: TEN_MB }, /the request is [\d.]+ MiB, over the limit of 8(\.0)? MiB/],
    ['a malformed model name', { tenantId: 'beta', contents: 'hi', models: ['not a model!'] }, /models\.0/],
    ['an unknown field', { tenantId: 'beta', contents: 'hi', tennant: 'x' }, /tennant|unrecognized/i],
  ];
  it.each(cases)('%s: ValidationError naming the problem, nothing enqueued', async (_name, req, pattern) => {
    const before = await stack.counts();
    const err = await stack.client.enqueue(req as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    const e = err as ValidationError;
    expect(`${e.message} ${e.issues.join(' ')}`).toMatch(pattern);
    const after = await stack.counts();
    expect(after.waiting ?? 0).toBe(before.waiting ?? 0);
  });

  it('an unknown tenant: refused at enqueue (UnknownTenantError), nothing queued, no upstream call', async () => {
    const calls = stack.sim.stats().totalCalls;
    const before = await stack.counts();
    const err = await stack.client.enqueue({ tenantId: 'nobody', contents: 'hi' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownTenantError);
    expect((err as Error).message).toMatch(/nobody/);
    expect((await stack.counts()).waiting ?? 0).toBe(before.waiting ?? 0);
    expect(stack.sim.stats().totalCalls).toBe(calls);
    await stillServing('an unknown tenant');
  });

  // the client does not know every model's availability: an unknown model is refused by the worker at once, before any upstream call
  it.each([
    ['an unknown model', { tenantId: 'beta', contents: 'hi', models: ['gemini-9.9-ultra'] }, /unknown model\(s\) gemini-9\.9-ultra/],
  ])('%s: fails with reason invalid_request and no upstream call', async (_name, req, pattern) => {
    const calls = stack.sim.stats().totalCalls;
    const err = await stack.client.generate(req, { timeoutMs: 30_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GenerationFailedError);
    const e = err as GenerationFailedError;
    expect(e.reason).toBe('invalid_request');
    expect(e.message).toMatch(pattern);
    expect(stack.sim.stats().totalCalls).toBe(calls);
    await stillServing(_name);
  });
});

describe('raw jobs added straight to the BullMQ queue, bypassing the client', () => {
  const now = Date.now();
  const raw: Array<[string, unknown]> = [
    ['empty object', {}],
    ['a string', 'hello'],
    ['no request', { enqueuedAt: now }],
    ['request without contents', { request: { tenantId: 'beta' }, enqueuedAt: now }],
    ['request of wrong types', { request: { tenantId: 5, contents: ['x'] }, enqueuedAt: now }],
    ['enqueuedAt not a number', { request: { tenantId: 'beta', contents: 'hi' }, enqueuedAt: 'yesterday' }],
    ['a 10 MB prompt', { request: { tenantId: 'beta', contents: TEN_MB }, enqueuedAt: now }],
    ['malformed state', { request: { tenantId: 'beta', contents: 'hi' }, enqueuedAt: now, state: { attempts: 'lots' } }],
    ['an unknown tenant', { request: { tenantId: 'nobody', contents: 'hi' }, enqueuedAt: now }],
  ];
  it.each(raw)('%s: failed once with reason invalid_request, no retry loop, workers alive', async (_name, data) => {
    const calls = stack.sim.stats().totalCalls;
    const job = await stack.queue.add(GENERATION_JOB, data as never, { attempts: 3, backoff: { type: 'fixed', delay: 200 } });
    const id = job.id ?? '';
    const status = await waitFinished(id);
    expect(status?.state).toBe('failed');
    expect(status && 'reason' in status ? status.reason : null).toBe('invalid_request');
    const fresh = await stack.queue.getJob(id);
    expect(fresh?.attemptsMade).toBe(1);
    expect(stack.sim.stats().totalCalls).toBe(calls);
    expect(stack.workers.every((w) => w.child.exitCode === null)).toBe(true);
    await stillServing(_name);
  });
  it('status() of a job that fails while being read still reports its reason (not "exhausted: job failed")', async () => {
    // client.status() reads the job, then its state: a job failing in between comes back failed with no reason
    const jobs = await Promise.all(Array.from({ length: 20 }, () => stack.queue.add(GENERATION_JOB, { enqueuedAt: Date.now() } as never)));
    const seen = new Set<string>();
    for (let i = 0; i < 400 && seen.size < jobs.length; i++) {
      for (const j of jobs) {
        const s = await stack.client.status(j.id ?? '');
        if (s?.state !== 'failed') continue;
        seen.add(j.id ?? '');
        expect(s.reason, `${s.reason}: ${s.message}`).toBe('invalid_request');
      }
    }
    expect(seen.size).toBe(jobs.length);
  });
});

describe('invalid fleet files through `quotaflow apply`', () => {
  const base = (): typeof fleet => structuredClone(fleet);
  const cases: Array<[string, (f: typeof fleet) => unknown, RegExp]> = [
    ['duplicate key ids', (f) => ({ ...f, keys: [...f.keys, { ...f.keys[0], secret: 'sk-other-secret-000' }] }), /duplicate id "c1"/],
    ['duplicate tenant ids', (f) => ({ ...f, tenants: [...f.tenants, { id: 'beta' }] }), /duplicate id "beta"/],
    ['an unknown project', (f) => ({ ...f, keys: [...f.keys, { id: 'k9', tenant: null, project: 'nope', secret: 'sk-k9-secret-0000' }] }), /unknown project "nope"/],
    ['negative limits', (f) => ({ ...f, projects: [{ id: 'pc', tier: 'tier1', limits: { [FLASH]: { rpm: -5, tpm: 1000, rpd: 10 } } }, ...f.projects.slice(1)] }), /projects\.0\.limits.*rpm/],
    ['a key in two tenants (same secret)', (f) => ({ ...f, keys: [...f.keys, { id: 'b2', tenant: 'beta', project: 'pc', secret: cfg.secretOf('b1') }] }), /same secret as key "b1"/],
    ['not JSON at all', () => '{ "models": [', /JSON|parse/i],
  ];
  it.each(cases)('%s: exit code 2, the problem named, the stored fleet unchanged', async (_name, mutate, pattern) => {
    const doc = mutate(base());
    const file = join(tmpdir(), `qf-bad-fleet-${Math.random().toString(36).slice(2)}.json`);
    await writeFile(file, typeof doc === 'string' ? doc : JSON.stringify(doc));
    const r = await stack.cli(['apply', '-f', file]);
    const text = r.stdout + r.stderr;
    expect(r.code, text).toBe(2);
    expect(text).toMatch(pattern);
    for (const k of ['c1', 'b1']) expect(text).not.toContain(cfg.secretOf(k));
    await stillServing(_name);
  });
});

describe('invalid HTTP bodies on POST /v1/generations', () => {
  let sys: System;
  let app: FastifyInstance;
  beforeAll(async () => {
    sys = await openSystem(parseConfig({ ...stack.env, LOG_LEVEL: 'warn' }), createLogger({ level: 'warn' }));
    app = await buildApiServer(sys);
  });
  afterAll(async () => {
    await app?.close();
    await sys?.close();
  });
  const auth = { authorization: `Bearer ${TOKEN}` };
  const post = async (payload: string, contentType = 'application/json') =>
    app.inject({ method: 'POST', url: '/v1/generations', headers: { ...auth, 'content-type': contentType }, payload });
  const cases: Array<[string, () => string, string, number, RegExp]> = [
    ['broken JSON', () => '{"contents": ', 'application/json', 400, /JSON|body/i],
    ['an array', () => '[1,2]', 'application/json', 400, /JSON object/],
    ['wrong types', () => JSON.stringify({ contents: 7, deadlineMs: 'soon' }), 'application/json', 400, /contents/],
    ['no contents', () => JSON.stringify({}), 'application/json', 400, /contents/],
    ['a 9 MB prompt (over the 8 MiB request limit)', () => JSON.stringify({ contents: 'x'.repeat(9 * 1024 * 1024) }), 'application/json', 400, /over the limit of 8(\.0)? MiB/],
    ['an 11 MB body', () => JSON.stringify({ contents: 'x'.repeat(11 * 1024 * 1024) }), 'application/json', 413, /large|limit/i],
    ['another tenant\'s id', () => JSON.stringify({ tenantId: 'acme', contents: 'hi' }), 'application/json', 403, /cannot enqueue for "acme"/],
    ['not JSON', () => 'contents=hi', 'text/plain', 400, /JSON object/],
  ];
  it.each(cases)('%s: a 4xx with a JSON error naming the problem', async (_name, body, type, status, pattern) => {
    const r = await post(body(), type);
    expect(r.statusCode, r.body).toBe(status);
    const j = r.json<{ error: { code: string; message: string; issues?: string[] } }>();
    expect(typeof j.error.code).toBe('string');
    expect(`${j.error.message} ${(j.error.issues ?? []).join(' ')}`).toMatch(pattern);
  });

  it('and then serves a good request', async () => {
    const r = await app.inject({ method: 'POST', url: '/v1/generations?wait=30', headers: auth, payload: { contents: 'good over http' } });
    expect(r.statusCode).toBe(200);
    expect(r.json<{ state: string }>().state).toBe('completed');
  });
});

async function waitFinished(id: string): Promise<Awaited<ReturnType<RelStack['client']['status']>>> {
  for (let i = 0; i < 300; i++) {
    const s = await stack.client.status(id);
    // read once more when finished: see the status() race test above
    if (s && (s.state === 'failed' || s.state === 'completed')) return stack.client.status(id);
    await new Promise((r) => setTimeout(r, 100));
  }
  return stack.client.status(id);
}
