/**
 * Lease latency at N central keys in N projects (tenant central-only, chain
 * of two models, ample limits): time `leaser.acquire(...)` alone, then undo
 * it with the matching `cancel` (untimed) so every acquire sees the same
 * empty windows. Planning (`planLease`) is timed separately; acquire gets
 * the plan memoized per fleet, as workers do (job-step.ts). Every scope's
 * RPD pool holds its first block before timing starts, as in a worker that
 * has run for a while: the first lease of a scope each day also reserves a
 * block from Postgres (one statement), later ones one time in ~50.
 */
import { performance } from 'node:perf_hooks';
import { createLeaser } from '../../src/app/leaser.js';
import { buildFleetIndex } from '../../src/core/fleet-index.js';
import { planLease } from '../../src/core/lease-plan.js';
import { createLogger } from '../../src/logger.js';
import { openSystem } from '../../src/system.js';
import { fleetSpec } from '../harness/configs.js';
import { openRunEnv } from '../harness/env.js';
import { percentile } from '../quality/metrics.js';
import { parseScenario } from '../scenario.js';

export interface LeaseLatency {
  keys: number;
  iterations: number;
  acquireMs: { p50: number; p99: number; mean: number; max: number };
  planMs: { p50: number; p99: number };
}

export async function runLeaseLatency(opts: { keys: number; iterations: number; redisUrl: string }): Promise<LeaseLatency> {
  const n = opts.keys;
  const ample = { rpm: 10_000_000, tpm: 1_000_000_000, rpd: 100_000_000 };
  const s = parseScenario({
    name: `lease-${n}`,
    models: ['gemini-2.5-pro', 'gemini-2.5-flash'],
    defaultLimits: { 'gemini-2.5-pro': ample, 'gemini-2.5-flash': ample },
    projects: Object.fromEntries(Array.from({ length: n }, (_, i) => [`p-${i}`, {}])),
    tenants: [{ id: 'solo', keyMode: 'central-only' }],
    keys: Array.from({ length: n }, (_, i) => ({ id: `c-${i}`, tenant: null, project: `p-${i}` })),
    workload: { messages: 1, arrival: { kind: 'burst' } },
  });
  const env = await openRunEnv(`lease-${n}`, opts.redisUrl);
  const config = env.config({ geminiBaseUrl: 'http://127.0.0.1:9' });
  const sys = await openSystem(config, createLogger({ level: 'silent' }), { migrate: false });
  try {
    await sys.admin.applyFleet(fleetSpec(s), { prune: true });
    const index = buildFleetIndex(await sys.fleetSource.load());
    const leaser = createLeaser({ limiter: sys.limiter, ledger: sys.ledger, day: sys.day });
    const memoized = index.memo(`plan:solo:${s.models.join(',')}`, () => planLease(index, { tenantId: 'solo', chain: s.models }));
    if (memoized.kind !== 'plan') throw new Error(`no plan: ${memoized.detail}`);
    // warm pools: each scope's first block of the day, reserved and pooled as a lease would
    const now = Date.now();
    const pool = { day: sys.day.dayId(now), ttlMs: sys.day.nextDayStartMs(now) - now + 60_000 };
    for (const c of memoized.groups.flatMap((g) => g.candidates)) {
      const block = await sys.ledger.reserveBlock({ projectId: c.projectId, model: c.model, day: pool.day, limit: c.limits.rpd });
      await sys.limiter.fillPool(c.scope, pool, block.granted + 1);
    }
    const acquire: number[] = [];
    const plan: number[] = [];
    const warmup = 50;
    for (let i = 0; i < warmup + opts.iterations; i++) {
      const p0 = performance.now();
      const p = planLease(index, { tenantId: 'solo', chain: s.models });
      const p1 = performance.now();
      if (p.kind !== 'plan') throw new Error(`no plan: ${p.detail}`);
      const t0 = performance.now();
      const r = await leaser.acquire(memoized.groups, 200, `lease-bench-${i}`);
      const t1 = performance.now();
      if (r.kind !== 'lease') throw new Error('lease bench: nothing admitted with ample limits');
      await leaser.cancel(r.lease);
      if (i >= warmup) {
        acquire.push(t1 - t0);
        plan.push(p1 - p0);
      }
    }
    acquire.sort((a, b) => a - b);
    plan.sort((a, b) => a - b);
    const round = (x: number | null): number => Math.round((x ?? 0) * 1000) / 1000;
    return {
      keys: n,
      iterations: opts.iterations,
      acquireMs: {
        p50: round(percentile(acquire, 50)),
        p99: round(percentile(acquire, 99)),
        mean: round(acquire.reduce((a, b) => a + b, 0) / acquire.length),
        max: round(acquire[acquire.length - 1] ?? 0),
      },
      planMs: { p50: round(percentile(plan, 50)), p99: round(percentile(plan, 99)) },
    };
  } finally {
    await sys.close();
    await env.cleanup();
  }
}
