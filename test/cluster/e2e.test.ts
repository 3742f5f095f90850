import { Queue } from 'bullmq';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GenerationFailedError } from '../../src/adapters/queue/client.js';
import { GENERATION_QUEUE, type GenerationResult } from '../../src/adapters/queue/job-contract.js';
import { countBy, matchedConfigs, type KeyDef } from '../helpers/fleets.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { rpdCounts } from '../helpers/rpd-spent.js';

/**
 * The whole product on a real three-master Redis Cluster: the stand-in, two
 * `quotaflow worker` processes with REDIS_CLUSTER_NODES, the client with
 * clusterNodes. What the single-Redis end-to-end tests prove about the lease
 * engine and failure handling holds here too, and a kill -9 of one of the two
 * workers loses no job.
 */
const PRO = 'gemini-2.5-pro';
const FLASH = 'gemini-2.5-flash';
const LITE = 'gemini-2.5-flash-lite';
const CHAIN = [PRO, FLASH, LITE];
// RPD binds for the top models, so "had room" is exact whatever the test's duration
const CHAIN_LIMITS: Record<string, { rpm: number; tpm: number; rpd: number }> = {
  [PRO]: { rpm: 1000, tpm: 10_000_000, rpd: 10 },
  [FLASH]: { rpm: 1000, tpm: 10_000_000, rpd: 20 },
  [LITE]: { rpm: 1000, tpm: 10_000_000, rpd: 1000 },
};
const L = { rpm: 100, tpm: 1_000_000, rpd: 1000 };
const AMPLE = { rpm: 100_000, tpm: 100_000_000, rpd: 1_000_000 };
const limits = (l: typeof L, ...models: string[]) => Object.fromEntries(models.map((m) => [m, l]));

const CHAIN_KEYS: KeyDef[] = [
  { id: 'a1', tenant: 'alpha', project: 'pa' },
  { id: 'a2', tenant: 'alpha', project: 'pa' },
  { id: 'b1', tenant: 'beta', project: 'pb' },
  { id: 'b2', tenant: 'beta', project: 'pb2' },
  { id: 'g1', tenant: 'gamma', project: 'pg' },
  { id: 'c1', tenant: null, project: 'pc1' },
  { id: 'c2', tenant: null, project: 'pc2' },
  { id: 'c3', tenant: null, project: 'pc2' },
];
const cfg = matchedConfigs({
  models: [...CHAIN, 'a-model', 'c-top', 'c-next', 'd-model', 'k-model'],
  projects: {
    ...Object.fromEntries([...new Set(CHAIN_KEYS.map((k) => k.project))].map((p) => [p, CHAIN_LIMITS])),
    pa1: limits(L, 'a-model'),
    pa2: limits(L, 'a-model'),
    pc: limits(L, 'c-top', 'c-next'),
    pd1: limits(L, 'd-model'),
    pd2: limits(L, 'd-model'),
    pk1: limits(AMPLE, 'k-model'),
    pk2: limits(AMPLE, 'k-model'),
  },
  tenants: [
    { id: 'alpha', keyMode: 'own-then-central', models: CHAIN },
    { id: 'beta', keyMode: 'own-only', models: CHAIN },
    { id: 'gamma', keyMode: 'own-then-central', models: CHAIN },
    { id: 'delta', keyMode: 'central-only', models: CHAIN },
    { id: 'ta', keyMode: 'own-only', models: ['a-model'] },
    { id: 'tc', keyMode: 'own-only', models: ['c-top', 'c-next'] },
    { id: 'td', keyMode: 'own-only', models: ['d-model'] },
    { id: 'te', keyMode: 'own-only', models: ['d-model'] },
    { id: 'tk', keyMode: 'own-only', models: ['k-model'] },
  ],
  keys: [
    ...CHAIN_KEYS,
    { id: 'fa1', tenant: 'ta', project: 'pa1', priority: 1 },
    { id: 'fa2', tenant: 'ta', project: 'pa2', priority: 2 },
    { id: 'fc1', tenant: 'tc', project: 'pc' },
    { id: 'fd1', tenant: 'td', project: 'pd1', priority: 1 },
    { id: 'fd2', tenant: 'td', project: 'pd2', priority: 2 },
    { id: 'fe1', tenant: 'te', project: 'pd2' },
    { id: 'k1', tenant: 'tk', project: 'pk1' },
    { id: 'k2', tenant: 'tk', project: 'pk2' },
  ],
  // calls in flight long enough for the kill -9 to catch some
  sim: { latencyMs: { min: 100, max: 300 } },
});
// what the stand-in really allows differs from what the fleet claims for a-model at pa1
const simProject = (id: string) => cfg.sim.projects.find((p) => p.id === id);
Object.assign(simProject('pa1')?.limits ?? {}, { 'a-model': { ...L, rpm: 1 } });
cfg.sim.faults = { rules: [{ model: 'c-top', forceStatus: '503-overloaded' }] };
cfg.sim.invalidKeys = [cfg.secretOf('fd1')];

const TENANTS = ['alpha', 'beta', 'gamma', 'delta'];
const MESSAGES = 200;
const CRASH_MESSAGES = 120;
const CONCURRENCY = 8;
const BREAKER_OPEN_MS = 2_000;
const chainKeyIds = new Set(CHAIN_KEYS.map((k) => k.id));

let stack: Stack;
let queue: Queue;
let enqueued = 0;
let chainResults: GenerationResult[] = [];
let chainFailed = 0;

const calls = (filter: (c: { keyLabel: string; model: string | null; status: number; method: string }) => boolean) =>
  stack.sim.stats().calls.filter((c) => c.method === 'generateContent' && filter(c));
const ask = (tenantId: string, contents = `hello from ${tenantId}`, extra: Record<string, unknown> = {}): Promise<GenerationResult> => {
  enqueued++;
  return stack.client.generate({ tenantId, contents, ...extra }, { timeoutMs: 120_000 });
};
const statusJson = async <T>(): Promise<T> => {
  const r = await stack.cli(['status', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as T;
};

beforeAll(async () => {
  // a worker started from the sources takes long to start on a busy machine
  stack = await startStack({ name: 'cl-e2e', sim: cfg.sim, cluster: true, workerReadyMs: 120_000, env: { QUOTAFLOW_BREAKER_OPEN_MS: String(BREAKER_OPEN_MS) } });
  const cl = stack.cluster;
  if (!cl) throw new Error('the stack has no cluster');
  queue = new Queue(GENERATION_QUEUE, { connection: cl.redis, prefix: cl.keyPrefix });
  await stack.applyFleet(cfg.fleet);
  await stack.startWorker(['--concurrency', String(CONCURRENCY)]);
  await stack.startWorker(['--concurrency', String(CONCURRENCY)]);
  const settled = await Promise.allSettled(Array.from({ length: MESSAGES }, (_, i) => ask(TENANTS[i % TENANTS.length] ?? 'alpha', `cluster message ${i}`)));
  chainResults = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  chainFailed = settled.length - chainResults.length;
}, 240_000);
afterAll(async () => {
  await queue?.close();
  await stack?.stop();
});

// each CLI call (status) starts a process: generous per-test time on a busy machine
describe('on a Redis Cluster: 2 worker processes, keys hash-tagged to one slot', { timeout: 180_000 }, () => {
  it('every key of the deployment carries the hash tag, and all of them live on one master', async () => {
    const cl = stack.cluster;
    if (!cl) throw new Error('no cluster');
    expect(cl.keyPrefix).toBe(`{${stack.prefix}}`);
    const holders: number[] = [];
    let total = 0;
    for (const node of cl.redis.nodes('master')) {
      const keys = await node.keys('*');
      total += keys.length;
      expect(keys.every((k) => k.startsWith(`${cl.keyPrefix}:`)), keys.find((k) => !k.startsWith(`${cl.keyPrefix}:`))).toBe(true);
      if (keys.length > 0) holders.push(keys.length);
    }
    expect(total).toBeGreaterThan(10);
    expect(holders).toHaveLength(1);
  });

  it('both workers registered, and the queue report reads through the cluster', async () => {
    const st = await statusJson<{ workers: Array<{ id: string; concurrency: number }> }>();
    expect(st.workers).toHaveLength(2);
    expect(st.workers.map((w) => w.concurrency)).toEqual([CONCURRENCY, CONCURRENCY]);
  });

  it(`answers all ${MESSAGES} messages of 4 tenants with zero upstream 429`, () => {
    expect(chainFailed).toBe(0);
    expect(chainResults).toHaveLength(MESSAGES);
    expect(new Set(chainResults.map((r) => r.jobId)).size).toBe(MESSAGES);
    const chainCalls = calls((c) => chainKeyIds.has(c.keyLabel));
    expect(chainCalls).toHaveLength(MESSAGES);
    expect(chainCalls.filter((c) => c.status !== 200)).toEqual([]);
    // own keys first through the whole chain, then central: every pro quota spent (6 projects × 10);
    // flash: beta 30 (its 50 messages after 20 pro), alpha and gamma 20 each, delta 30 centrally after 20 pro
    expect(countBy(chainResults, (r) => r.model)).toEqual({ [PRO]: 60, [FLASH]: 100, [LITE]: 40 });
  });

  it('never called a lower model while a higher model had a key with room (from the stand-in\'s record)', () => {
    const totals = new Map(stack.sim.stats().totals.map((t) => [`${t.project}|${t.model}`, t.requests]));
    const full = (project: string, model: string): boolean => (totals.get(`${project}|${model}`) ?? 0) >= (CHAIN_LIMITS[model]?.rpd ?? 0);
    const keyOf = new Map(CHAIN_KEYS.map((k) => [k.id, k]));
    let checked = 0;
    for (const call of calls((c) => chainKeyIds.has(c.keyLabel))) {
      const key = keyOf.get(call.keyLabel);
      const rank = CHAIN.indexOf(call.model ?? '');
      if (!key || rank <= 0) continue;
      // the keys that could have served this call: the same tenant's own keys, or the central keys
      const peers = CHAIN_KEYS.filter((k) => k.tenant === key.tenant);
      for (const higher of CHAIN.slice(0, rank)) {
        for (const p of peers) expect(full(p.project, higher), `${call.model} via ${key.id} while ${higher}@${p.project} had room`).toBe(true);
      }
      checked++;
    }
    expect(checked).toBe(140);
  });

  it('the RPD spent (ledger minus the pools on the cluster) equals the stand-in\'s per-scope counts', async () => {
    const sql = postgres(stack.env.DATABASE_URL ?? '', { max: 1, onnotice: () => undefined });
    const cl = stack.cluster;
    if (!cl) throw new Error('the stack has no cluster');
    try {
      const ledger = (await rpdCounts(sql, cl.redis, cl.keyPrefix)).spent;
      const upstream = Object.fromEntries(stack.sim.stats().totals.filter((t) => t.requests > 0).map((t) => [`${t.project}|${t.model}`, t.requests]));
      expect(ledger).toEqual(upstream);
    } finally {
      await sql.end();
    }
  });

  it('per-minute 429 the fleet did not know of: another key serves at once, the cooled scope gets no more requests', async () => {
    expect((await ask('ta')).keyId).toBe('fa1');
    const second = await ask('ta');
    expect(second.attempts.map((x) => `${x.keyId}:${x.outcome}`)).toEqual(['fa1:rate_minute', 'fa2:success']);
    for (let i = 0; i < 4; i++) expect((await ask('ta')).keyId).toBe('fa2');
    expect(calls((c) => c.keyLabel === 'fa1').map((c) => c.status)).toEqual([200, 429]);
    const st = await statusJson<{ scopes: Array<{ projectId: string; model: string; rpm: { limit: number; source: string }; cooldownMs: number | null }> }>();
    const scope = st.scopes.find((s) => s.projectId === 'pa1' && s.model === 'a-model');
    expect(scope?.cooldownMs).toBeGreaterThan(30_000);
    expect(scope?.rpm).toMatchObject({ limit: 1, source: 'learned' });
  });

  it('503 on the top model: served by the next model; the breaker (shared by both workers) opens after 3, one probe later', async () => {
    for (let i = 0; i < 5; i++) expect((await ask('tc')).model).toBe('c-next');
    expect(calls((c) => c.model === 'c-top')).toHaveLength(3);
    await new Promise((r) => setTimeout(r, BREAKER_OPEN_MS + 300));
    for (let i = 0; i < 3; i++) expect((await ask('tc')).model).toBe('c-next');
    expect(calls((c) => c.model === 'c-top')).toHaveLength(4);
    expect(stack.logs()).toContain('circuit breaker opened');
  });

  it('an invalid key is called once, disabled with its reason, and never called again', async () => {
    for (let i = 0; i < 4; i++) expect((await ask('td')).keyId).toBe('fd2');
    expect(calls((c) => c.keyLabel === 'fd1').map((c) => c.status)).toEqual([400]);
    const st = await statusJson<{ keys: Array<{ id: string; enabled: boolean; disabledReason: string | null }> }>();
    const fd1 = st.keys.find((k) => k.id === 'fd1');
    expect(fd1?.enabled).toBe(false);
    expect(fd1?.disabledReason).toMatch(/key_invalid/);
  });

  it('a bad request: exactly one upstream call, the job fails with invalid_request', async () => {
    const err = await ask('te', 'please [[simulate:bad-request]]').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GenerationFailedError);
    expect((err as GenerationFailedError).reason).toBe('invalid_request');
    expect(calls((c) => c.keyLabel === 'fe1')).toHaveLength(1);
  });

  it(`kill -9 of one worker with calls in flight: the other finishes all ${CRASH_MESSAGES} messages, none lost`, async () => {
    const [victim, survivor] = stack.workers;
    if (!victim || !survivor) throw new Error('two workers expected');
    const before = calls((c) => c.model === 'k-model').length;
    const pending = Array.from({ length: CRASH_MESSAGES }, (_, i) => ask('tk', `crash message ${i}`, { deadlineMs: 600_000 }));
    // wait until both workers are busy with k-model calls, then kill one of them
    for (let i = 0; i < 600 && calls((c) => c.model === 'k-model').length < before + 2 * CONCURRENCY; i++) await new Promise((r) => setTimeout(r, 50));
    expect((await queue.getJobCounts('active')).active).toBeGreaterThan(0);
    victim.child.kill('SIGKILL');
    await victim.exited;
    const settled = await Promise.allSettled(pending);
    const ok = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    expect(settled.filter((s) => s.status === 'rejected')).toEqual([]);
    expect(new Set(ok.map((r) => r.jobId)).size).toBe(CRASH_MESSAGES);
    expect(ok.every((r) => r.model === 'k-model' && ['k1', 'k2'].includes(r.keyId))).toBe(true);
    const jobs = await queue.getJobs(['completed'], 0, -1);
    const stalled = jobs.filter((j) => (j.stalledCounter ?? 0) > 0).length;
    expect(stalled).toBeGreaterThan(0);
    expect(stalled).toBeLessThanOrEqual(CONCURRENCY);
    expect(survivor.child.exitCode).toBeNull();
  }, 240_000);

  it('every job the client enqueued is accounted for: completed or failed with a reason, nothing left waiting or active', async () => {
    const c = await queue.getJobCounts('completed', 'failed', 'wait', 'active', 'delayed', 'prioritized', 'waiting-children');
    expect((c.completed ?? 0) + (c.failed ?? 0)).toBe(enqueued);
    expect(c.failed).toBe(1);
    expect((c.wait ?? 0) + (c.active ?? 0) + (c.delayed ?? 0) + (c.prioritized ?? 0) + (c['waiting-children'] ?? 0)).toBe(0);
  });
});
