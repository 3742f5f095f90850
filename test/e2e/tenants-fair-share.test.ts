import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENERATION_QUEUE } from '../../src/adapters/queue/job-contract.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { enqueueMany, jobTimes, tenantConfigs, until, type JobTimes } from '../helpers/tenants.js';

/**
 * Tenants are protected from each other by fair share: a job's BullMQ
 * priority is its tenant's waiting jobs × 100 / weight, so a tenant with a
 * huge backlog does not make a quiet tenant wait behind it. One worker at
 * concurrency 16, a stand-in answering after exactly 100 ms, ample quotas:
 * only the order in which jobs are taken is under test.
 *
 * The bound on the noisy tenant's starts while the quiet tenant is served:
 * the quiet jobs' priorities (1, 101, …, 901) are below those of every noisy
 * job still waiting (its position when enqueued, thousands deep), and a
 * worker's free slot always takes the lowest priority. So from the quiet
 * enqueue until the last quiet job starts (at S), every slot that frees
 * takes a quiet job: no noisy start. From S to the last quiet completion
 * (E), one slot is held by a quiet job throughout, and each of the other
 * C - 1 slots starts at most one job per stand-in latency L (a job holds its
 * slot at least that long): at most (C - 1) x (floor((E - S) / L) + 1) noisy
 * starts. Nothing in it depends on the noisy tenant's backlog.
 */
const FLASH = 'gemini-2.5-flash';
const CONCURRENCY = 16;
const LATENCY_MS = 100;
const AMPLE = { [FLASH]: { rpm: 1_000_000, tpm: 1_000_000_000, rpd: 10_000_000 } };

const cfg = tenantConfigs({
  models: [FLASH],
  projects: { pc: AMPLE },
  tenants: [
    { id: 'noisy', keyMode: 'central-only' },
    { id: 'quiet', keyMode: 'central-only' },
    { id: 'heavy', keyMode: 'central-only', weight: 3 },
    { id: 'light', keyMode: 'central-only', weight: 1 },
  ],
  keys: [{ id: 'c1', tenant: null, project: 'pc' }],
  sim: { latencyMs: { min: LATENCY_MS, max: LATENCY_MS } },
});

let stack: Stack;
let queue: Queue;

beforeAll(async () => {
  stack = await startStack({ name: 'tenants-fair', sim: cfg.sim });
  await stack.applyFleet(cfg.fleet);
  await stack.startWorker(['--concurrency', String(CONCURRENCY)]);
  queue = new Queue(GENERATION_QUEUE, { connection: stack.redis, prefix: stack.prefix });
}, 60_000);
afterAll(async () => {
  await queue?.close();
  await stack?.stop();
});

const started = (jobs: readonly JobTimes[], after: number, upTo: number): JobTimes[] => jobs.filter((j) => j.processedOn !== null && j.processedOn > after && j.processedOn <= upTo);

describe('fair share between tenants', () => {
  it("a tenant's 3,000-job backlog lets another tenant's 10 jobs through at once: the noisy tenant starts at most (C - 1) x (run of the quiet tenant's last jobs / latency + 1) more", async () => {
    const noisy = await enqueueMany(3_000, (i) => stack.client.enqueue({ tenantId: 'noisy', contents: `noisy message ${i}` }));
    // the noisy tenant is well under way, with thousands still waiting
    await until(async () => (await jobTimes(stack.redis, stack.prefix, noisy.slice(0, 200))).every((j) => j.finishedOn !== null), 'the first 200 noisy jobs', 60_000);

    const quiet = await Promise.all(Array.from({ length: 10 }, (_, i) => stack.client.enqueue({ tenantId: 'quiet', contents: `quiet message ${i}` })));
    const enqueuedAt = Date.now();
    await Promise.all(quiet.map((q) => stack.client.wait(q.jobId, { timeoutMs: 60_000 })));

    const q = await jobTimes(stack.redis, stack.prefix, quiet.map((x) => x.jobId));
    const n = await jobTimes(stack.redis, stack.prefix, noisy);
    const lastQuietStart = Math.max(...q.map((j) => j.processedOn ?? Infinity));
    const lastQuietEnd = Math.max(...q.map((j) => j.finishedOn ?? Infinity));
    const waitingThen = n.filter((j) => j.processedOn === null || j.processedOn > enqueuedAt);

    // the design's premise: every quiet job's priority is below every noisy job still waiting
    expect(waitingThen.length).toBeGreaterThan(2_000);
    expect(Math.max(...q.map((j) => j.priority))).toBeLessThan(Math.min(...waitingThen.map((j) => j.priority)));

    // so every slot freed before the last quiet start went to a quiet job...
    expect(started(n, enqueuedAt, lastQuietStart - 1)).toEqual([]);
    // ...and after it, each of the other C - 1 slots starts at most one job per LATENCY_MS
    const bound = (CONCURRENCY - 1) * (Math.floor((lastQuietEnd - lastQuietStart) / LATENCY_MS) + 1);
    const noisyDuring = started(n, enqueuedAt, lastQuietEnd).length;
    expect(noisyDuring).toBeLessThanOrEqual(bound);
    // the bound does not depend on the backlog: a few dozen starts against thousands waiting (first in, first out would start them all)
    expect(noisyDuring).toBeLessThan(waitingThen.length / 10);
    console.log(`noisy jobs started while the quiet tenant was served: ${noisyDuring} (bound ${bound}; ${waitingThen.length} noisy jobs were waiting)`);

    await until(async () => (await queue.getJobCounts('prioritized', 'waiting', 'active')).prioritized === 0, 'the noisy backlog to drain', 60_000);
  }, 120_000);

  it('weights 3:1 with both tenants backlogged: started jobs split within 10 % of 3:1 in steady state', async () => {
    await until(async () => {
      const c = await queue.getJobCounts('prioritized', 'waiting', 'active');
      return (c.prioritized ?? 0) + (c.waiting ?? 0) + (c.active ?? 0) === 0;
    }, 'an idle queue');
    // both backlogs are in place before the worker takes any of them
    await queue.pause();
    const ids = await enqueueMany(600, (i) => stack.client.enqueue({ tenantId: i % 4 === 3 ? 'light' : 'heavy', contents: `weighted message ${i}` }));
    await queue.resume();
    await Promise.all(ids.map((id) => stack.client.wait(id, { timeoutMs: 60_000 })));

    const order = (await jobTimes(stack.redis, stack.prefix, ids)).map((j, i) => ({ ...j, tenant: i % 4 === 3 ? 'light' : 'heavy' })).sort((a, b) => (a.processedOn ?? 0) - (b.processedOn ?? 0));
    // steady state: past the first takes of every slot, before the end where one tenant runs dry
    const window = order.slice(3 * CONCURRENCY, order.length - 3 * CONCURRENCY);
    const heavy = window.filter((j) => j.tenant === 'heavy').length;
    const light = window.length - heavy;
    console.log(`steady state: heavy ${heavy}, light ${light} (ratio ${(heavy / light).toFixed(2)})`);
    expect(heavy / light).toBeGreaterThanOrEqual(3 * 0.9);
    expect(heavy / light).toBeLessThanOrEqual(3 * 1.1);
  }, 90_000);
});
