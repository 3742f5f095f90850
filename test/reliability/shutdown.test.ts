import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matchedConfigs } from '../helpers/fleets.js';
import { startAofRedis, type AofRedis } from './helpers/private-redis.js';
import { startRelStack, until, type RelStack } from './helpers/rel-stack.js';

/**
 * SIGTERM to a worker with calls in flight: with a grace (15 s) longer than
 * the calls (2.5 s) it finishes them; with a grace (1 s) much shorter than
 * the calls (20 s) it hands them back. Either way it exits within grace + 5 s, leaves nothing
 * active, and the jobs complete on a worker started afterwards.
 */
const FLASH = 'gemini-2.5-flash';
const cfg = matchedConfigs({
  models: [FLASH],
  projects: { pc: { [FLASH]: { rpm: 1000, tpm: 10_000_000, rpd: 100_000 } } },
  tenants: [{ id: 'beta', keyMode: 'central-only' }],
  keys: [{ id: 'c1', tenant: null, project: 'pc' }],
  sim: { latencyMs: { min: 2_000, max: 2_500 } },
});
const CONCURRENCY = 4;
const SLACK_MS = 5_000;

let redis: AofRedis;
let stack: RelStack;

beforeAll(async () => {
  redis = await startAofRedis();
  stack = await startRelStack({ name: 'shutdown', sim: cfg.sim, redisUrl: redis.url });
  await stack.applyFleet(cfg.fleet);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await redis?.destroy();
});

interface Run {
  inFlight: number;
  exitCode: number | null;
  exitMs: number;
  activeAfter: number;
  completedAtExit: number;
  settled: { completed: number; failed: number; ms: number };
  total: number;
}

/** Starts a worker, fills it, SIGTERMs it mid-call, then lets a fresh worker finish the rest. */
async function scenario(tag: string, graceMs: number, callMs: number): Promise<Run> {
  stack.sim.setFaults({ rules: [{ latencyMs: { min: callMs, max: callMs } }] });
  const before = (await stack.counts()).completed ?? 0;
  const w = await stack.startWorker(['--concurrency', String(CONCURRENCY), '--grace-ms', String(graceMs)]);
  const jobs = 2 * CONCURRENCY;
  await stack.enqueueAll(Array.from({ length: jobs }, (_, i) => ({ tenantId: 'beta', contents: `${tag} ${i}` })));
  await until(async () => ((await stack.counts()).active ?? 0) >= CONCURRENCY, 30_000, 20);
  await new Promise((r) => setTimeout(r, 300)); // the calls are now at the stand-in
  const inFlight = (await stack.counts()).active ?? 0;
  const t0 = Date.now();
  w.child.kill('SIGTERM');
  const exitCode = await w.exited;
  const exitMs = Date.now() - t0;
  const c = await stack.counts();
  const activeAfter = c.active ?? 0;
  const completedAtExit = (c.completed ?? 0) - before;
  stack.sim.setFaults({ rules: [] });
  const next = await stack.startWorker(['--concurrency', String(CONCURRENCY)]);
  const settled = await stack.waitSettled(before + jobs, 180_000);
  next.child.kill('SIGTERM');
  await next.exited;
  const run = { inFlight, exitCode, exitMs, activeAfter, completedAtExit, settled, total: jobs };
  console.warn(`[shutdown ${tag}] graceMs=${graceMs} ${JSON.stringify(run)}`);
  return { ...run, settled: { ...settled, completed: settled.completed - before } };
}

describe('SIGTERM with a grace longer than the calls in flight', () => {
  const graceMs = 15_000;
  let run: Run;
  beforeAll(async () => {
    run = await scenario('long-grace', graceMs, 2_500);
  }, 300_000);

  it('finishes its in-flight jobs and exits cleanly within grace + 5 s', () => {
    expect(run.inFlight).toBe(CONCURRENCY);
    expect(run.exitCode).toBe(0);
    expect(run.exitMs).toBeLessThan(graceMs + SLACK_MS);
    expect(run.completedAtExit).toBeGreaterThanOrEqual(CONCURRENCY);
  });

  it('leaves nothing active, and the rest complete on a restarted worker', () => {
    expect(run.activeAfter).toBe(0);
    expect(run.settled.completed).toBe(run.total);
    expect(run.settled.failed).toBe(0);
  });
});

describe('SIGTERM with a grace (1 s) much shorter than the calls in flight (20 s)', () => {
  const graceMs = 1_000;
  let run: Run;
  beforeAll(async () => {
    run = await scenario('short-grace', graceMs, 20_000);
  }, 300_000);

  it('exits within grace + 5 s', () => {
    expect(run.inFlight).toBe(CONCURRENCY);
    expect(run.exitCode).toBe(0);
    expect(run.exitMs).toBeLessThan(graceMs + SLACK_MS);
  });

  it('hands its in-flight jobs back: nothing is left active after it exits', () => {
    expect(run.activeAfter).toBe(0);
  });

  it('the handed-back jobs complete on a restarted worker', () => {
    expect(run.settled.completed).toBe(run.total);
    expect(run.settled.failed).toBe(0);
  });
});
