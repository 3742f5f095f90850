import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StreamEvent } from '../../src/core/job.js';
import type { FaultRule } from '../../src/simulator/index.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { tenantConfigs, until } from '../helpers/tenants.js';

/**
 * An attempt cut off mid-answer is followed by a `reset`, and after it only
 * the next attempt's chunks: when project A's model fails after 2 chunks
 * (503) and B answers, and when a worker shuts down mid-answer and hands the
 * job back (the next pass writes the reset). The RPD ledger counts what the
 * stand-in counted.
 */
const FLASH = 'gemini-2.5-flash';
const AMPLE = { [FLASH]: { rpm: 10_000, tpm: 100_000_000, rpd: 100_000 } };
const cfg = tenantConfigs({
  models: [FLASH],
  projects: { pa: AMPLE, pb: AMPLE, pc: AMPLE },
  tenants: [
    { id: 'alpha', keyMode: 'own-only' },
    { id: 'beta', keyMode: 'own-only' },
  ],
  keys: [
    { id: 'ka', tenant: 'alpha', project: 'pa', priority: 1 },
    { id: 'kb', tenant: 'alpha', project: 'pb', priority: 2 },
    { id: 'kc', tenant: 'beta', project: 'pc' },
  ],
  sim: { stream: { chunkChars: 4, chunkIntervalMs: 5 } },
});
const FAIL_A: FaultRule = { project: 'pa', midStream: { afterChunks: 2, status: 503, how: 'error-event', p: 1 } };
cfg.sim.faults = { rules: [FAIL_A] };

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ name: 'streaming-reset', sim: cfg.sim });
  await stack.applyFleet(cfg.fleet);
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});

/** The events after the last reset, which must be exactly one attempt's answer. */
function afterLastReset(events: readonly StreamEvent[]): StreamEvent[] {
  const at = events.map((e) => e.type).lastIndexOf('reset');
  return events.slice(at + 1);
}
const text = (events: readonly StreamEvent[]): string => events.map((e) => (e.type === 'chunk' ? e.text : '')).join('');

async function ledgerMatchesStandIn(): Promise<void> {
  const sql = postgres(stack.env.DATABASE_URL ?? '', { max: 1, onnotice: () => undefined });
  try {
    const rows = await sql<Array<{ project_id: string; model: string; used: number }>>`select project_id, model, sum(used)::int as used from rpd_ledger group by 1, 2`;
    const ledger = Object.fromEntries(rows.filter((r) => r.used > 0).map((r) => [`${r.project_id}|${r.model}`, r.used]));
    const upstream = Object.fromEntries(stack.sim.stats().totals.filter((t) => t.requests > 0).map((t) => [`${t.project}|${t.model}`, t.requests]));
    expect(ledger).toEqual(upstream);
  } finally {
    await sql.end();
  }
}

describe('a model failing mid-answer', () => {
  it('reads chunk, chunk, reset, then exactly the healthy project\'s chunks, joining into the result', async () => {
    await stack.startWorker(['--concurrency', '2']);
    const events: StreamEvent[] = [];
    for await (const e of stack.client.stream({ tenantId: 'alpha', contents: 'A question long enough for a dozen chunks of four characters each.' })) events.push(e);
    expect(events.slice(0, 3).map((e) => e.type)).toEqual(['chunk', 'chunk', 'reset']);
    const rest = afterLastReset(events);
    const done = rest.at(-1);
    if (done?.type !== 'done') throw new Error(`no done at the end: ${JSON.stringify(done)}`);
    expect(rest.slice(0, -1).every((e) => e.type === 'chunk')).toBe(true);
    expect(events.filter((e) => e.type === 'reset')).toHaveLength(1);
    expect(done.result.project).toBe('pb');
    expect(text(rest)).toBe(done.result.text);
    // B streamed the whole answer: as many chunks after the reset as the stand-in cut it into
    expect(rest.length - 1).toBe(Math.ceil(done.result.text.length / 4));
    const calls = stack.sim.stats().calls.filter((c) => c.method === 'streamGenerateContent');
    expect(calls.map((c) => `${c.project}:${c.status}`)).toEqual(['pa:503', 'pb:200']);
    await ledgerMatchesStandIn();
  });
});

describe('a worker shut down mid-answer', () => {
  it('hands the job back; the next pass starts with a reset, then only the new attempt\'s chunks', async () => {
    // C answers slowly: the worker is stopped between its chunks
    stack.sim.setFaults({ rules: [FAIL_A, { project: 'pc', stream: { chunkChars: 4, chunkIntervalMs: 400 } }] });
    for (const w of stack.workers) if (w.child.exitCode === null) w.child.kill('SIGTERM');
    await Promise.all(stack.workers.map((w) => w.exited));
    const slow = await stack.startWorker(['--concurrency', '2', '--grace-ms', '300']);
    const events: StreamEvent[] = [];
    let stopped = false;
    const { jobId } = await stack.client.enqueue({ tenantId: 'beta', contents: 'Another question that the stand-in answers slowly, in many chunks.', stream: true });
    const reading = (async () => {
      for await (const e of stack.client.streamJob(jobId)) {
        events.push(e);
        if (!stopped && events.filter((x) => x.type === 'chunk').length >= 2) {
          stopped = true;
          stack.sim.setFaults({ rules: [FAIL_A] });
          slow.child.kill('SIGTERM');
        }
      }
    })();
    await until(() => stopped, 'two chunks read', 60_000);
    expect(await slow.exited).toBe(0);
    // handed back, not taken again by the closing worker's own fetch (which would hold it until its lock expired)
    expect((await stack.client.status(jobId))?.state).not.toBe('active');
    await stack.startWorker(['--concurrency', '2']);
    await reading;
    const firstAttempt = events.findIndex((e) => e.type === 'reset');
    expect(firstAttempt).toBeGreaterThanOrEqual(2);
    expect(events.slice(0, firstAttempt).every((e) => e.type === 'chunk')).toBe(true);
    expect(events.filter((e) => e.type === 'reset')).toHaveLength(1);
    const rest = afterLastReset(events);
    const done = rest.at(-1);
    if (done?.type !== 'done') throw new Error(`no done at the end: ${JSON.stringify(done)}`);
    expect(rest.slice(0, -1).every((e) => e.type === 'chunk')).toBe(true);
    expect(text(rest)).toBe(done.result.text);
    expect(text(events.slice(0, firstAttempt))).toBe(done.result.text.slice(0, text(events.slice(0, firstAttempt)).length));
    await ledgerMatchesStandIn();
  });
});
