import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GenerationFailedError } from '../../src/adapters/queue/client.js';
import { GENERATION_QUEUE } from '../../src/adapters/queue/job-contract.js';
import { buildApiServer } from '../../src/api/server.js';
import { parseConfig } from '../../src/config.js';
import { TenantLimitError } from '../../src/errors.js';
import { createLogger } from '../../src/logger.js';
import { openSystem, type System } from '../../src/system.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { tenantConfigs } from '../helpers/tenants.js';

/**
 * A tenant's daily limits, its allowance on central keys and its caps at
 * the producer, each against the real stack: limits end jobs with `budget`
 * and no upstream call; caps refuse the enqueue (TenantLimitError, HTTP 429
 * with Retry-After) while other tenants are served.
 */
const FLASH = 'gemini-2.5-flash';
const AMPLE = { [FLASH]: { rpm: 10_000, tpm: 10_000_000, rpd: 100_000 } };
const TOKENS = { capped: randomBytes(24).toString('hex'), other: randomBytes(24).toString('hex') };
const ADMIN = randomBytes(24).toString('hex');
const TOKENS_PER_DAY = 150;

const cfg = tenantConfigs({
  models: [FLASH],
  projects: { pd: AMPLE, pt: AMPLE, pf: { [FLASH]: { rpm: 10_000, tpm: 10_000_000, rpd: 2 } }, pc: AMPLE },
  tenants: [
    { id: 'daily', keyMode: 'own-only', limits: { rpd: 4 } },
    { id: 'tokens', keyMode: 'own-only', limits: { tokensPerDay: TOKENS_PER_DAY } },
    { id: 'fallback', keyMode: 'own-then-central', limits: { centralRpd: 3 } },
    { id: 'capped', keyMode: 'central-only', limits: { queuedJobs: 5 }, token: TOKENS.capped },
    { id: 'other', keyMode: 'central-only', token: TOKENS.other },
  ],
  keys: [
    { id: 'd1', tenant: 'daily', project: 'pd' },
    { id: 't1', tenant: 'tokens', project: 'pt' },
    { id: 'f1', tenant: 'fallback', project: 'pf' },
    { id: 'c1', tenant: null, project: 'pc' },
  ],
});

let stack: Stack;
let sys: System;
let app: FastifyInstance;

beforeAll(async () => {
  stack = await startStack({ name: 'tenants-limits', sim: cfg.sim });
  await stack.applyFleet(cfg.fleet);
  await stack.startWorker(['--concurrency', '8']);
  sys = await openSystem(parseConfig({ ...stack.env, QUOTAFLOW_ADMIN_TOKEN: ADMIN, LOG_LEVEL: 'warn' }), createLogger({ level: 'warn' }));
  app = await buildApiServer(sys);
}, 60_000);
afterAll(async () => {
  await app?.close();
  await sys?.close();
  await stack?.stop();
});

const burst = (tenantId: string, n: number) => Promise.allSettled(Array.from({ length: n }, (_, i) => stack.client.generate({ tenantId, contents: `${tenantId} message ${i}` }, { timeoutMs: 30_000 })));
const failures = (rs: Array<PromiseSettledResult<unknown>>): GenerationFailedError[] => rs.flatMap((r) => (r.status === 'rejected' && r.reason instanceof GenerationFailedError ? [r.reason] : []));
const callsOn = (project: string) => stack.sim.stats().calls.filter((c) => c.project === project);

describe('daily limits', () => {
  it('rpd 4: a burst of 7 gives 4 answers and 3 `budget` failures, and only 4 upstream calls', async () => {
    const rs = await burst('daily', 7);
    expect(rs.filter((r) => r.status === 'fulfilled')).toHaveLength(4);
    const f = failures(rs);
    expect(f.map((e) => e.reason)).toEqual(['budget', 'budget', 'budget']);
    expect(f[0]?.message).toContain('requests per day (rpd) of 4');
    expect(f.every((e) => e.attempts.length === 0)).toBe(true);
    expect(callsOn('pd')).toHaveLength(4);
  });

  it(`tokensPerDay ${TOKENS_PER_DAY}: once the day's tokens are spent, jobs end with \`budget\` and make no call`, async () => {
    const outcomes: Array<'ok' | string> = [];
    for (let i = 0; i < 20 && !outcomes.includes('budget'); i++) {
      outcomes.push(await stack.client.generate({ tenantId: 'tokens', contents: `tokens message ${i}` }, { timeoutMs: 30_000 }).then(() => 'ok', (e: unknown) => (e instanceof GenerationFailedError ? e.reason : String(e))));
    }
    const served = outcomes.filter((o) => o === 'ok').length;
    expect(outcomes.at(-1)).toBe('budget');
    expect(served).toBeGreaterThan(1);
    const calls = callsOn('pt');
    expect(calls).toHaveLength(served);
    // a call was made only while the day's tokens were under the limit
    const spentBefore = calls.slice(0, -1).reduce((n, c) => n + c.promptTokens + c.candidatesTokens, 0);
    expect(spentBefore).toBeLessThan(TOKENS_PER_DAY);
    const spent = spentBefore + (calls.at(-1)?.promptTokens ?? 0) + (calls.at(-1)?.candidatesTokens ?? 0);
    expect(spent).toBeGreaterThan(TOKENS_PER_DAY * 0.7);
    const again = await stack.client.generate({ tenantId: 'tokens', contents: 'one more' }, { timeoutMs: 30_000 }).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(GenerationFailedError);
    expect((again as GenerationFailedError).message).toContain('tokensPerDay');
    expect(callsOn('pt')).toHaveLength(served);
  });
});

describe('the allowance on central keys', () => {
  it('own keys spent for the day (rpd 2): central keys serve only up to centralRpd 3, then jobs end with `budget`', async () => {
    const rs = await burst('fallback', 8);
    const ok = rs.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    expect(ok.filter((r) => !r.central).map((r) => r.keyId)).toEqual(['f1', 'f1']);
    expect(ok.filter((r) => r.central).map((r) => r.keyId)).toEqual(['c1', 'c1', 'c1']);
    const f = failures(rs);
    expect(f).toHaveLength(3);
    expect(new Set(f.map((e) => e.reason))).toEqual(new Set(['budget']));
    expect(f[0]?.message).toMatch(/central keys/);
    expect(callsOn('pf')).toHaveLength(2);
    expect(stack.sim.stats().calls.filter((c) => c.project === 'pc' && c.status === 200)).toHaveLength(3);
    expect(stack.sim.stats().calls.filter((c) => c.status === 429)).toEqual([]);
  });
});

describe('caps at the producer', () => {
  it('a tenant over its queued jobs gets TenantLimitError from the client and 429 with Retry-After from the HTTP API; another tenant is served', async () => {
    const queue = new Queue(GENERATION_QUEUE, { connection: stack.redis, prefix: stack.prefix });
    // nothing leaves the queue meanwhile: the capped tenant's 5 jobs stay outstanding
    await queue.pause();
    try {
      const held = await Promise.all(Array.from({ length: 5 }, (_, i) => stack.client.enqueue({ tenantId: 'capped', contents: `held ${i}` })));
      const refused = await stack.client.enqueue({ tenantId: 'capped', contents: 'one too many' }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(TenantLimitError);
      expect((refused as TenantLimitError).limit).toBe('jobs');
      expect((refused as TenantLimitError).retryAfterMs).toBeGreaterThan(0);

      const http = await app.inject({ method: 'POST', url: '/v1/generations', headers: { authorization: `Bearer ${TOKENS.capped}` }, payload: { contents: 'over HTTP' } });
      expect(http.statusCode).toBe(429);
      expect(Number(http.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(http.json().error).toMatchObject({ code: 'tenant_over_limit' });
      expect(http.json().error.message).toContain('5 jobs');

      const served = await app.inject({ method: 'POST', url: '/v1/generations', headers: { authorization: `Bearer ${TOKENS.other}` }, payload: { contents: 'meanwhile' } });
      expect(served.statusCode).toBe(202);
      const viaClient = await stack.client.enqueue({ tenantId: 'other', contents: 'meanwhile too' });
      await queue.resume();
      await Promise.all([...held.map((h) => h.jobId), served.json().jobId as string, viaClient.jobId].map((id) => stack.client.wait(id, { timeoutMs: 30_000 })));
      // the ended jobs freed the caps
      const later = await app.inject({ method: 'POST', url: '/v1/generations?wait=30', headers: { authorization: `Bearer ${TOKENS.capped}` }, payload: { contents: 'after the others ended' } });
      expect(later.statusCode).toBe(200);
      expect(later.json().state).toBe('completed');
    } finally {
      await queue.resume();
      await queue.close();
    }
  });
});
