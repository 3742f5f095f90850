import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../helpers/stack.js';
import { enqueueMany, tenantConfigs, until } from '../helpers/tenants.js';

/**
 * Lanes: batch work never delays chatbot answers. The only scope allows 5
 * requests a minute (the stand-in and the fleet agree), 500 batch jobs fill
 * it and wait; interactive jobs enqueued after them are served with the
 * next capacity, before any further batch call.
 */
const FLASH = 'gemini-2.5-flash';
const RPM = 5;

const cfg = tenantConfigs({
  models: [FLASH],
  projects: { pc: { [FLASH]: { rpm: RPM, tpm: 1_000_000, rpd: 10_000 } } },
  tenants: [{ id: 'shop', keyMode: 'central-only' }],
  keys: [{ id: 'c1', tenant: null, project: 'pc' }],
  sim: { recordBodies: true, latencyMs: { min: 20, max: 20 } },
});

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ name: 'tenants-lanes', sim: cfg.sim });
  await stack.applyFleet(cfg.fleet);
  await stack.startWorker(['--concurrency', '16']);
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});

const laneOf = (body: unknown): string => (JSON.stringify(body).includes('interactive message') ? 'interactive' : 'batch');

describe('lanes', () => {
  it('interactive jobs enqueued after 500 batch jobs on a saturated scope take the next capacity before any further batch call', async () => {
    const batch = await enqueueMany(500, (i) => stack.client.enqueue({ tenantId: 'shop', lane: 'batch', contents: `batch message ${i}`, deadlineMs: 600_000 }));
    await until(() => stack.sim.stats().calls.length >= RPM, 'the batch jobs to fill the window');
    await new Promise((r) => setTimeout(r, 1_000));
    expect(stack.sim.stats().calls).toHaveLength(RPM);

    const enqueuedAt = Date.now();
    const interactive = await Promise.all(Array.from({ length: RPM }, (_, i) => stack.client.enqueue({ tenantId: 'shop', contents: `interactive message ${i}` })));
    const results = await Promise.all(interactive.map((j) => stack.client.wait(j.jobId, { timeoutMs: 90_000 })));
    expect(results.every((r) => r.model === FLASH)).toBe(true);

    const calls = stack.sim.calls({ withBodies: true });
    const after = calls.filter((c) => c.at >= enqueuedAt).map((c) => ({ at: c.at, lane: laneOf(c.body), status: c.status }));
    // the window freed a minute after the batch calls: every call since went to the interactive jobs first
    expect(after.slice(0, RPM).map((c) => c.lane)).toEqual(Array.from({ length: RPM }, () => 'interactive'));
    expect(after.filter((c) => c.status !== 200)).toEqual([]);
    // the batch backlog was there all along, waiting on the same scope
    const open = await Promise.all(batch.map((id) => stack.client.status(id)));
    expect(open.filter((s) => s?.state !== 'completed').length).toBeGreaterThanOrEqual(500 - RPM);
  }, 110_000);
});
