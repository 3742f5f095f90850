import { UnknownTenantError } from '../../src/errors.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { GenerationFailedError } from '../../src/adapters/queue/client.js';
import { GENERATION_QUEUE } from '../../src/adapters/queue/job-contract.js';
import { TEST_REDIS_URL } from '../helpers/redis.js';
import { parseSimulatorConfig } from '../../src/simulator/index.js';
import { dumpRedis, startStack, type Stack } from '../helpers/stack.js';

const SECRETS = ['sk-e2e-acme-secret-0001', 'sk-e2e-central-secret-0002'];
const PRO = 'gemini-2.5-pro';
const FLASH = 'gemini-2.5-flash';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    name: 'skeleton',
    sim: parseSimulatorConfig({
      projects: [
        { id: 'proj-a', tier: 'free', keys: [{ secret: SECRETS[0], label: 'acme-1' }] },
        { id: 'proj-c', tier: 'tier1', keys: [{ secret: SECRETS[1], label: 'central-1' }] },
      ],
      models: { [PRO]: { rpm: 50, tpm: 1_000_000, rpd: 1000 }, [FLASH]: { rpm: 50, tpm: 1_000_000, rpd: 1000 } },
    }),
    env: { CENTRAL_KEY_1: SECRETS[1] ?? '' },
  });
  await stack.applyFleet({
    models: [PRO, FLASH],
    projects: [
      { id: 'proj-a', tier: 'free', limits: { [PRO]: { rpm: 50, tpm: 1_000_000, rpd: 1000 }, [FLASH]: { rpm: 50, tpm: 1_000_000, rpd: 1000 } } },
      { id: 'proj-c', tier: 'tier1', limits: { [PRO]: { rpm: 50, tpm: 1_000_000, rpd: 1000 }, [FLASH]: { rpm: 50, tpm: 1_000_000, rpd: 1000 } } },
    ],
    tenants: [
      { id: 'acme', keyMode: 'own-then-central', models: [PRO, FLASH] },
      { id: 'solo', keyMode: 'central-only' },
    ],
    keys: [
      { id: 'acme-1', tenant: 'acme', project: 'proj-a', secret: SECRETS[0], priority: 1 },
      { id: 'central-1', tenant: null, project: 'proj-c', secretEnv: 'CENTRAL_KEY_1', priority: 1 },
    ],
  });
  await stack.startWorker(['--concurrency', '4']);
});

afterAll(async () => {
  await stack?.stop();
});

describe('walking skeleton: a message goes through queue, worker and Gemini', () => {
  it('answers a message with the tenant\'s own key and the first model of its chain', async () => {
    const r = await stack.client.generate({ tenantId: 'acme', contents: 'Hello, where is my order?' }, { timeoutMs: 30_000 });
    expect(r.text).toContain('Hello, where is my order?');
    expect(r).toMatchObject({ model: PRO, keyId: 'acme-1', project: 'proj-a', central: false });
    expect(r.usage.promptTokens).toBeGreaterThan(0);
    expect(r.attempts).toHaveLength(1);
    expect(stack.sim.stats().calls.filter((c) => c.status === 200).length).toBeGreaterThan(0);
  });

  it('serves a central-only tenant with a central key and says so', async () => {
    const r = await stack.client.generate({ tenantId: 'solo', contents: 'Hi' }, { timeoutMs: 30_000 });
    expect(r).toMatchObject({ keyId: 'central-1', central: true });
  });

  it('enqueuing the same messageId twice yields one job', async () => {
    const a = await stack.client.enqueue({ tenantId: 'acme', messageId: 'dup-1', contents: 'once' });
    const b = await stack.client.enqueue({ tenantId: 'acme', messageId: 'dup-1', contents: 'once' });
    expect(b.jobId).toBe(a.jobId);
    const r = await stack.client.wait(a.jobId, { timeoutMs: 30_000 });
    expect(r.jobId).toBe(a.jobId);
  });

  it('refuses an unknown tenant at enqueue; one added straight to the queue fails with invalid_request; others are served', async () => {
    const refused = await stack.client.enqueue({ tenantId: 'nobody', contents: 'x' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(UnknownTenantError);
    const q = new Queue(GENERATION_QUEUE, { connection: { url: TEST_REDIS_URL }, prefix: stack.prefix });
    try {
      const raw = await q.add('generate', { request: { tenantId: 'nobody', contents: 'x', lane: 'interactive', stream: false }, enqueuedAt: Date.now() }, { priority: 1 });
      const err = await stack.client.wait(raw.id ?? '', { timeoutMs: 30_000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GenerationFailedError);
      expect((err as GenerationFailedError).reason).toBe('invalid_request');
    } finally {
      await q.close();
    }
    expect((await stack.client.generate({ tenantId: 'acme', contents: 'still here?' }, { timeoutMs: 30_000 })).text).toContain('still here?');
  });

  it('a malformed job added straight to the queue fails with invalid_request; the worker keeps serving', async () => {
    const q = new Queue(GENERATION_QUEUE, { connection: { url: TEST_REDIS_URL }, prefix: stack.prefix });
    try {
      const bad = await q.add('generate', { request: { tenantId: 42, contents: [] }, enqueuedAt: 'yesterday' });
      let state = '';
      for (let i = 0; i < 200 && state !== 'failed'; i++) {
        state = await bad.getState();
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(state).toBe('failed');
      const failed = await q.getJob(bad.id ?? '');
      expect(failed?.failedReason).toMatch(/^invalid_request: invalid generation request/);
      expect(failed?.attemptsMade).toBe(1);
    } finally {
      await q.close();
    }
    expect((await stack.client.generate({ tenantId: 'acme', contents: 'after the bad one' }, { timeoutMs: 30_000 })).text).toContain('after the bad one');
  });

  it('the CLI enqueues, waits and prints one JSON result per job', async () => {
    const r = await stack.cli(['enqueue', '--tenant', 'acme', '--text', 'from the cli', '--count', '3', '--wait', '--json']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { ok: boolean; model: string; keyId: string });
    expect(lines).toHaveLength(3);
    for (const l of lines) expect(l).toMatchObject({ ok: true, keyId: 'acme-1' });
  });

  it('the CLI rejects bad input with exit code 2 and a clear message', async () => {
    const r = await stack.cli(['enqueue', '--tenant', 'acme']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--text');
  });

  it('status lists keys and quota use per (project, model) with limit sources', async () => {
    const r = await stack.cli(['status', '--json']);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout) as { keys: Array<{ id: string }>; scopes: Array<{ projectId: string; model: string; rpd: { used: number; source: string } }> };
    expect(s.keys.map((k) => k.id).sort()).toEqual(['acme-1', 'central-1']);
    const acmePro = s.scopes.find((x) => x.projectId === 'proj-a' && x.model === PRO);
    expect(acmePro?.rpd.used).toBeGreaterThanOrEqual(5);
    expect(acmePro?.rpd.source).toBe('configured');
  });

  it('no secret appears in worker logs, CLI output or anything stored in Redis', async () => {
    const logs = stack.logs();
    expect(logs).toContain('generation worker started');
    const redisDump = await dumpRedis(stack.redis, stack.prefix);
    expect(redisDump).toContain('Hello, where is my order?');
    for (const s of SECRETS) {
      expect(logs).not.toContain(s);
      expect(redisDump).not.toContain(s);
    }
  });
});
