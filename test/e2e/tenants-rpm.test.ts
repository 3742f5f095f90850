import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GenerationFailedError } from '../../src/adapters/queue/client.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { enqueueMany, tenantConfigs } from '../helpers/tenants.js';

/**
 * A tenant's own requests-per-minute limit holds across workers: 4 worker
 * processes and 200 concurrent jobs of a tenant limited to 20 a minute,
 * on keys whose own quota is far larger (so only the tenant's limit
 * binds). The stand-in's record is checked over every sliding 60 s
 * window of a ~70 s run.
 */
const FLASH = 'gemini-2.5-flash';
const TENANT_RPM = 20;
const WINDOW_MS = 60_000;
const AMPLE = { [FLASH]: { rpm: 100_000, tpm: 100_000_000, rpd: 1_000_000 } };

const cfg = tenantConfigs({
  models: [FLASH],
  projects: { pm: AMPLE, pc: AMPLE },
  tenants: [
    { id: 'metered', keyMode: 'own-only', limits: { rpm: TENANT_RPM } },
    { id: 'free', keyMode: 'central-only' },
  ],
  keys: [
    { id: 'm1', tenant: 'metered', project: 'pm' },
    { id: 'm2', tenant: 'metered', project: 'pm' },
    { id: 'c1', tenant: null, project: 'pc' },
  ],
  sim: { latencyMs: { min: 50, max: 150 } },
});

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ name: 'tenants-rpm', sim: cfg.sim });
  await stack.applyFleet(cfg.fleet);
  await Promise.all([1, 2, 3, 4].map(() => stack.startWorker(['--concurrency', '16'])));
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});

/** The most calls found in any window [t, t + windowMs) starting at a call. */
function busiestWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (j < sorted.length && (sorted[j] ?? Infinity) < (sorted[i] ?? 0) + windowMs) j++;
    most = Math.max(most, j - i);
  }
  return most;
}

describe('a tenant limit across workers', () => {
  it(`4 workers, 200 concurrent jobs, rpm ${TENANT_RPM}: never more than ${TENANT_RPM} upstream calls in any 60 s window, while another tenant is served at once`, async () => {
    const ids = await enqueueMany(200, (i) => stack.client.enqueue({ tenantId: 'metered', contents: `metered message ${i}`, deadlineMs: 70_000 }));
    const ends = Promise.allSettled(ids.map((id) => stack.client.wait(id, { timeoutMs: 120_000 })));

    // the other tenant, on the same workers, is not held back by the metered tenant's wait
    const free = await Promise.all(Array.from({ length: 10 }, (_, i) => stack.client.generate({ tenantId: 'free', contents: `free message ${i}` }, { timeoutMs: 30_000 })));
    expect(free.every((r) => r.keyId === 'c1')).toBe(true);
    const meteredSoFar = stack.sim.stats().calls.filter((c) => c.project === 'pm').length;
    expect(meteredSoFar).toBeLessThanOrEqual(TENANT_RPM);

    const settled = await ends;
    const calls = stack.sim.stats().calls.filter((c) => c.project === 'pm');
    const completed = settled.filter((s) => s.status === 'fulfilled').length;
    const reasons = settled.flatMap((s) => (s.status === 'rejected' && s.reason instanceof GenerationFailedError ? [s.reason.reason] : []));

    expect(calls.filter((c) => c.status !== 200)).toEqual([]);
    expect(busiestWindow(calls.map((c) => c.at), WINDOW_MS)).toBeLessThanOrEqual(TENANT_RPM);
    // the window slid: a second minute's allowance was served, and no more
    expect(calls.length).toBeGreaterThan(TENANT_RPM);
    expect(calls.length).toBeLessThanOrEqual(2 * TENANT_RPM);
    // every job ended: served once per call, the rest waited for capacity until their deadline
    expect(completed).toBe(calls.length);
    expect(reasons).toHaveLength(200 - completed);
    expect(new Set(reasons)).toEqual(new Set(['deadline']));
  }, 110_000);
});
