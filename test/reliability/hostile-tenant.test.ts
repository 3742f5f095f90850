import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApiServer } from '../../src/api/server.js';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { FAIL_FAST, openSystem, type System } from '../../src/system.js';
import { matchedConfigs } from '../helpers/fleets.js';
import { startAofRedis, type AofRedis } from './helpers/private-redis.js';
import { startRelStack, until, type RelStack } from './helpers/rel-stack.js';

/**
 * One tenant floods a 64 MB Redis through one API process (huge requests and
 * many small ones, bounded in count) while a steady tenant sends small
 * requests and waits for each answer, two workers serving both: the steady
 * tenant's requests all complete; the hostile tenant gets only 202 or 429
 * (each 429 with Retry-After, never a 500); Redis stays under its maxmemory;
 * no worker exits. The steady tenant's latency alone and during the flood is
 * logged (the machine is shared: only a generous bound is asserted).
 */
const FLASH = 'gemini-2.5-flash';
const MAXMEMORY = 64 * 1024 * 1024;
const TOKENS = { hostile: 'tenant-token-hostile-flood-2Kp9Xw4Rm', steady: 'tenant-token-steady-flood-8Lq3Zv6Tn' };
const cfg = matchedConfigs({
  models: [FLASH],
  projects: { pc: { [FLASH]: { rpm: 100_000, tpm: 1_000_000_000, rpd: 10_000_000 } } },
  tenants: [{ id: 'hostile', keyMode: 'central-only' }, { id: 'steady', keyMode: 'central-only' }],
  keys: [{ id: 'c1', tenant: null, project: 'pc' }, { id: 'c2', tenant: null, project: 'pc' }],
  sim: { latencyMs: { min: 80, max: 200 } },
});
const fleet = cfg.fleet as { tenants: Array<Record<string, unknown>> };
fleet.tenants = fleet.tenants.map((t) => ({ ...t, token: TOKENS[t.id as keyof typeof TOKENS] }));
const HUGE = 'h'.repeat(512 * 1024);
const FLOOD = { huge: 120, small: 600, parallel: 24 };
const STEADY = { alone: 15, during: 30, parallel: 3 };

let redis: AofRedis;
let stack: RelStack;
let sys: System;
let app: FastifyInstance;
let base = '';
let peakMemory = 0;
const hostile: Array<{ status: number; retryAfter: string | null }> = [];
let alone: Array<{ ok: boolean; ms: number }> = [];
let during: Array<{ ok: boolean; ms: number }> = [];

async function post(tenant: keyof typeof TOKENS, body: unknown, query = ''): Promise<Response> {
  return fetch(`${base}/v1/generations${query}`, { method: 'POST', headers: { authorization: `Bearer ${TOKENS[tenant]}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

/** `n` requests of the steady tenant, `parallel` at a time, each waiting for its answer. */
async function steadyRun(n: number, parallel: number, tag: string): Promise<Array<{ ok: boolean; ms: number }>> {
  const out: Array<{ ok: boolean; ms: number }> = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < n) {
        const i = next++;
        const t0 = performance.now();
        const r = await post('steady', { contents: `steady ${tag} ${i}` }, '?wait=120');
        const body = (await r.json()) as { state?: string };
        out.push({ ok: r.status === 200 && body.state === 'completed', ms: performance.now() - t0 });
      }
    }),
  );
  return out;
}

async function flood(): Promise<void> {
  const plan = [...Array.from({ length: FLOOD.huge }, () => 'huge'), ...Array.from({ length: FLOOD.small }, () => 'small')].sort(() => Math.random() - 0.5);
  let next = 0;
  await Promise.all(
    Array.from({ length: FLOOD.parallel }, async () => {
      while (next < plan.length) {
        const i = next++;
        const r = await post('hostile', { contents: plan[i] === 'huge' ? HUGE : `flood ${i}` });
        await r.arrayBuffer();
        hostile.push({ status: r.status, retryAfter: r.headers.get('retry-after') });
      }
    }),
  );
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0);
};

beforeAll(async () => {
  redis = await startAofRedis();
  stack = await startRelStack({ name: 'hostile-tenant', sim: cfg.sim, redisUrl: redis.url, env: { QUOTAFLOW_TENANT_MAX_JOBS: '40', QUOTAFLOW_TENANT_MAX_BYTES: String(3 * 1024 * 1024) } });
  await stack.redis.config('SET', 'maxmemory-policy', 'noeviction');
  await stack.redis.config('SET', 'maxmemory', String(MAXMEMORY));
  await stack.applyFleet(fleet);
  await stack.startWorker(['--concurrency', '16']);
  await stack.startWorker(['--concurrency', '16']);
  sys = await openSystem(parseConfig({ ...stack.env, LOG_LEVEL: 'warn' }), createLogger({ level: 'warn' }), { profile: FAIL_FAST });
  app = await buildApiServer(sys);
  base = await app.listen({ host: '127.0.0.1', port: 0 });
  await until(async () => (await fetch(`${base}/readyz`)).status === 200, 60_000, 100);

  alone = await steadyRun(STEADY.alone, STEADY.parallel, 'alone');
  let flooding = true;
  const sampler = (async () => {
    while (flooding) {
      const used = Number(/used_memory:(\d+)/.exec(await stack.redis.info('memory'))?.[1] ?? 0);
      peakMemory = Math.max(peakMemory, used);
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  const floodRun = flood();
  during = await steadyRun(STEADY.during, STEADY.parallel, 'during');
  await floodRun;
  flooding = false;
  await sampler;
  const status = (xs: typeof hostile): Record<number, number> => xs.reduce<Record<number, number>>((m, h) => ({ ...m, [h.status]: (m[h.status] ?? 0) + 1 }), {});
  console.warn(
    `[hostile-tenant] steady alone p50=${pct(alone.map((a) => a.ms), 50)}ms p99=${pct(alone.map((a) => a.ms), 99)}ms; during the flood p50=${pct(during.map((a) => a.ms), 50)}ms p99=${pct(during.map((a) => a.ms), 99)}ms; ` +
      `hostile answers ${JSON.stringify(status(hostile))}; peak Redis memory ${(peakMemory / 1024 / 1024).toFixed(1)} MiB of ${MAXMEMORY / 1024 / 1024} MiB`,
  );
}, 900_000);

afterAll(async () => {
  await app?.close();
  await sys?.close();
  await stack?.stop();
  await redis?.destroy();
});

describe('a hostile tenant flooding, a steady tenant beside it', () => {
  it("every one of the steady tenant's requests completed, alone and during the flood", () => {
    expect(alone).toHaveLength(STEADY.alone);
    expect(during).toHaveLength(STEADY.during);
    expect([...alone, ...during].every((s) => s.ok)).toBe(true);
  });

  it('the hostile tenant got only 202 or 429, some of each, every 429 with Retry-After', () => {
    expect(hostile).toHaveLength(FLOOD.huge + FLOOD.small);
    expect(hostile.filter((h) => h.status !== 202 && h.status !== 429)).toEqual([]);
    expect(hostile.some((h) => h.status === 202)).toBe(true);
    expect(hostile.some((h) => h.status === 429)).toBe(true);
    for (const h of hostile.filter((x) => x.status === 429)) expect(Number(h.retryAfter)).toBeGreaterThan(0);
  });

  it('Redis stayed under its maxmemory', () => {
    expect(peakMemory).toBeGreaterThan(0);
    expect(peakMemory).toBeLessThan(MAXMEMORY);
  });

  it('no worker exited', () => {
    expect(stack.workers.every((w) => w.child.exitCode === null && w.child.signalCode === null)).toBe(true);
  });

  it("a generous bound: the steady tenant's median during the flood stays under a minute", () => {
    expect(pct(during.map((a) => a.ms), 50)).toBeLessThan(60_000);
  });
});
