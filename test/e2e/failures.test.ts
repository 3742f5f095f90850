import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GenerationFailedError } from '../../src/adapters/queue/client.js';
import type { GenerationResult } from '../../src/adapters/queue/job-contract.js';
import { matchedConfigs } from '../helpers/fleets.js';
import { startStack, type Stack } from '../helpers/stack.js';

// each scenario has its own tenant, projects and model, so breakers and cooldowns never overlap
const L = { rpm: 100, tpm: 1_000_000, rpd: 1000 };
const MODELS = ['a-model', 'b-model', 'c-top', 'c-next', 'd-model', 'e-model', 'f-model', 'h-model'];
const limits = (...models: string[]) => Object.fromEntries(models.map((m) => [m, L]));
const cfg = matchedConfigs({
  models: MODELS,
  projects: {
    pa1: limits('a-model'),
    pa2: limits('a-model'),
    pb: limits('b-model'),
    pb2: limits('b-model'),
    pc: limits('c-top', 'c-next'),
    pd1: limits('d-model'),
    pd2: limits('d-model'),
    pe: limits('e-model'),
    ...Object.fromEntries([1, 2, 3, 4, 5, 6].map((i) => [`pf${i}`, limits('f-model')])),
    ...Object.fromEntries([1, 2, 3, 4].map((i) => [`ph${i}`, limits('h-model')])),
  },
  tenants: [
    { id: 'ta', keyMode: 'own-only', models: ['a-model'] },
    { id: 'tb', keyMode: 'own-only', models: ['b-model'] },
    { id: 'tc', keyMode: 'own-only', models: ['c-top', 'c-next'] },
    { id: 'td', keyMode: 'own-only', models: ['d-model'] },
    { id: 'te', keyMode: 'own-only', models: ['e-model'] },
    { id: 'tf', keyMode: 'own-only', models: ['f-model'] },
    { id: 'th', keyMode: 'own-only', models: ['h-model'] },
  ],
  keys: [
    { id: 'a1', tenant: 'ta', project: 'pa1', priority: 1 },
    { id: 'a2', tenant: 'ta', project: 'pa2', priority: 2 },
    { id: 'b1', tenant: 'tb', project: 'pb', priority: 1 },
    { id: 'b2', tenant: 'tb', project: 'pb2', priority: 2 },
    { id: 'c1', tenant: 'tc', project: 'pc' },
    { id: 'd1', tenant: 'td', project: 'pd1', priority: 1 },
    { id: 'd2', tenant: 'td', project: 'pd2', priority: 2 },
    { id: 'e1', tenant: 'te', project: 'pe' },
    ...[1, 2, 3, 4, 5, 6].map((i) => ({ id: `f${i}`, tenant: 'tf', project: `pf${i}` })),
    ...[1, 2, 3, 4].map((i) => ({ id: `h${i}`, tenant: 'th', project: `ph${i}`, priority: i })),
  ],
});
// what the stand-in really allows differs from what the fleet claims for a and b
const simProject = (id: string) => cfg.sim.projects.find((p) => p.id === id);
Object.assign(simProject('pa1')?.limits ?? {}, { 'a-model': { ...L, rpm: 1 } });
Object.assign(simProject('pb')?.limits ?? {}, { 'b-model': { ...L, rpd: 1 } });
cfg.sim.faults = {
  rules: [
    { model: 'c-top', forceStatus: '503-overloaded' },
    { model: 'f-model', forceStatus: '500-internal' },
    { model: 'h-model', forceStatus: '429-no-details' },
  ],
};
cfg.sim.invalidKeys = [cfg.secretOf('d1')];

const BREAKER_OPEN_MS = 2_000;
let stack: Stack;
const results: GenerationResult[] = [];

const calls = (filter: (c: { keyLabel: string; model: string | null; status: number; method: string }) => boolean) =>
  stack.sim.stats().calls.filter((c) => c.method === 'generateContent' && filter(c));
const ask = async (tenantId: string, contents = `hello from ${tenantId}`, extra: Record<string, unknown> = {}): Promise<GenerationResult> => {
  const r = await stack.client.generate({ tenantId, contents, ...extra }, { timeoutMs: 60_000 });
  results.push(r);
  return r;
};

beforeAll(async () => {
  stack = await startStack({ name: 'failures', sim: cfg.sim, env: { QUOTAFLOW_BREAKER_OPEN_MS: String(BREAKER_OPEN_MS) } });
  await stack.applyFleet(cfg.fleet);
  await stack.startWorker(['--concurrency', '4']);
});
afterAll(async () => {
  await stack?.stop();
});

describe('failures handled by their kind', () => {
  it('(a) per-minute 429: another key serves at once, the job succeeds, the cooled scope gets no request', async () => {
    expect((await ask('ta')).keyId).toBe('a1');
    const second = await ask('ta');
    expect(second.keyId).toBe('a2');
    expect(second.attempts.map((x) => `${x.keyId}:${x.outcome}`)).toEqual(['a1:rate_minute', 'a2:success']);
    for (let i = 0; i < 4; i++) expect((await ask('ta')).keyId).toBe('a2');
    expect(calls((c) => c.keyLabel === 'a1').map((c) => c.status)).toEqual([200, 429]);
    const st = JSON.parse((await stack.cli(['status', '--json'])).stdout) as { scopes: Array<{ projectId: string; model: string; rpm: { limit: number; source: string }; cooldownMs: number | null }> };
    const scope = st.scopes.find((s) => s.projectId === 'pa1' && s.model === 'a-model');
    expect(scope?.cooldownMs).toBeGreaterThan(30_000);
    expect(scope?.rpm).toMatchObject({ limit: 1, source: 'learned' });
  });

  it('(b) per-day 429: the scope is excluded until the next Pacific midnight, also after every worker restarts', async () => {
    expect((await ask('tb')).keyId).toBe('b1');
    const r = await ask('tb');
    expect(r.attempts.map((x) => `${x.keyId}:${x.outcome}`)).toEqual(['b1:rate_day', 'b2:success']);
    const sql = postgres(stack.env.DATABASE_URL ?? '', { max: 1, onnotice: () => undefined });
    try {
      const [ex] = await sql<Array<{ until: Date }>>`select until from scope_exclusions where project_id = 'pb' and model = 'b-model'`;
      expect(ex?.until.getTime()).toBeGreaterThan(Date.now() + 60_000);
      // the next Pacific midnight is at 07:00 or 08:00 UTC
      expect([7, 8]).toContain(ex?.until.getUTCHours());
      expect(ex?.until.getUTCMinutes()).toBe(0);
    } finally {
      await sql.end();
    }
    // restart every worker and forget Redis' copy of the exclusion: Postgres brings it back
    for (const w of stack.workers) w.child.kill('SIGTERM');
    await Promise.all(stack.workers.map((w) => w.exited));
    expect(await stack.redis.hdel(`${stack.prefix}:s:pb|b-model:st`, 'day')).toBe(1);
    await stack.startWorker(['--concurrency', '4']);
    for (let i = 0; i < 3; i++) expect((await ask('tb')).keyId).toBe('b2');
    expect(calls((c) => c.keyLabel === 'b1').map((c) => c.status)).toEqual([200, 429]);
  });

  it('(c) 503 on the top model: served by the next model; the breaker opens after 3, one probe later', async () => {
    for (let i = 0; i < 5; i++) expect((await ask('tc')).model).toBe('c-next');
    expect(calls((c) => c.model === 'c-top')).toHaveLength(3);
    await new Promise((r) => setTimeout(r, BREAKER_OPEN_MS + 300));
    for (let i = 0; i < 3; i++) expect((await ask('tc')).model).toBe('c-next');
    expect(calls((c) => c.model === 'c-top')).toHaveLength(4);
    expect(stack.logs()).toContain('circuit breaker opened');
  });

  it('(d) an invalid key is called once, disabled with its reason, and never called again', async () => {
    for (let i = 0; i < 4; i++) expect((await ask('td')).keyId).toBe('d2');
    expect(calls((c) => c.keyLabel === 'd1').map((c) => c.status)).toEqual([400]);
    const st = JSON.parse((await stack.cli(['status', '--json'])).stdout) as { keys: Array<{ id: string; enabled: boolean; disabledReason: string | null }> };
    const d1 = st.keys.find((k) => k.id === 'd1');
    expect(d1?.enabled).toBe(false);
    expect(d1?.disabledReason).toMatch(/key_invalid/);
  });

  it('(e) a bad request: exactly one upstream call, the job fails with invalid_request', async () => {
    const err = await ask('te', 'please [[simulate:bad-request]]').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GenerationFailedError);
    expect((err as GenerationFailedError).reason).toBe('invalid_request');
    expect(calls((c) => c.keyLabel === 'e1')).toHaveLength(1);
  });

  it('(f) nothing can serve before the deadline: the job fails with its reason after at most 4 upstream calls', async () => {
    const err = await ask('tf', 'doomed', { deadlineMs: 6_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GenerationFailedError);
    expect(['exhausted', 'deadline']).toContain((err as GenerationFailedError).reason);
    expect((err as GenerationFailedError).attempts.length).toBeLessThanOrEqual(4);
    expect(calls((c) => c.model === 'f-model').length).toBeLessThanOrEqual(4);
  });

  it('(g) no job repeated a failed (key, model) before its backoff had passed', () => {
    let pairs = 0;
    for (const r of results) {
      const seen = new Map<string, number>();
      for (const a of r.attempts) {
        const k = `${a.keyId}/${a.model}`;
        const prev = seen.get(k);
        if (prev !== undefined) expect(a.at - prev).toBeGreaterThanOrEqual(1_000);
        if (a.outcome !== 'success') seen.set(k, a.at);
        pairs++;
      }
    }
    expect(pairs).toBeGreaterThan(20);
  });

  // last: a global backoff blocks every scenario
  it('429s without details from several projects at once: a global backoff, not a cooldown for each', async () => {
    const err = await ask('th', 'storm', { deadlineMs: 4_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GenerationFailedError);
    expect(calls((c) => c.model === 'h-model').map((c) => c.keyLabel)).toEqual(['h1', 'h2', 'h3']);
    expect(stack.logs()).toMatch(/correlated rate failures across 3/);
    // read before the status command below: the 10 s backoff must not depend on how long that command takes
    expect(Number(await stack.redis.hget(`${stack.prefix}:global`, 'open'))).toBeGreaterThan(Date.now());
    const st = JSON.parse((await stack.cli(['status', '--json'])).stdout) as {
      keys: Array<{ id: string; enabled: boolean }>;
      scopes: Array<{ projectId: string; model: string; cooldownMs: number | null }>;
    };
    expect(st.scopes.find((x) => x.projectId === 'ph3' && x.model === 'h-model')?.cooldownMs).toBeNull();
    // the first two were cooled (and noted for escalation) before the storm was seen; the third was not
    const cooled = async (p: string): Promise<boolean> => (await stack.redis.exists(`${stack.prefix}:note:repeat:${p}|h-model`)) === 1;
    expect([await cooled('ph1'), await cooled('ph2'), await cooled('ph3')]).toEqual([true, true, false]);
    expect(st.keys.filter((k) => k.id.startsWith('h')).every((k) => k.enabled)).toBe(true);
  });
});
