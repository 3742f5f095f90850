import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { GenerationJobData, JobState } from '../../src/adapters/queue/job-contract.js';
import type { Lease, Leaser, LeaseResult } from '../../src/app/leaser.js';
import type { JobEvents, UsageEvent } from '../../src/app/ports.js';
import { processJob, type ProcessDeps } from '../../src/app/process-job.js';
import type { CandidateGroup } from '../../src/core/lease-plan.js';
import { buildFleetIndex } from '../../src/core/fleet-index.js';
import type { FailureOutcome, Outcome } from '../../src/core/outcome.js';
import type { Fleet } from '../../src/core/types.js';

const PRO = 'gemini-2.5-pro';
const FLASH = 'gemini-2.5-flash';
const fleet: Fleet = {
  version: '1',
  models: [PRO, FLASH],
  projects: [{ id: 'p1', tier: 'free', limits: {} }, { id: 'p2', tier: 'free', limits: {} }],
  tenants: [{ id: 'acme', keyMode: 'own-only', models: null }],
  keys: [
    { id: 'k1', tenantId: 'acme', projectId: 'p1', priority: 1, enabled: true, disabledReason: null },
    { id: 'k2', tenantId: 'acme', projectId: 'p2', priority: 1, enabled: true, disabledReason: null },
  ],
  learned: [],
  unsupported: [],
};

const success: Outcome = { kind: 'success', text: 'hi', parts: [{ text: 'hi' }], usage: { promptTokens: 3, candidatesTokens: 2, totalTokens: 5, thoughtsTokens: 0, cachedTokens: 0 }, finishReason: 'STOP', safetyRatings: [], modelVersion: null, responseId: null };
const failure = (f: FailureOutcome['failure'], status: number): FailureOutcome => ({ kind: 'failure', failure: f, status, message: f, retryAfterMs: null, violation: null });

/** A leaser that, like the real one, grants the first candidate of the first group with room. */
function fakeLeaser(opts: { room?: (g: CandidateGroup) => boolean; earliest?: number | null } = {}): Leaser & { cancelled: number; settled: number[] } {
  const l = {
    cancelled: 0,
    settled: [] as number[],
    async acquire(groups: readonly CandidateGroup[], tokens: number, reservationId: string): Promise<LeaseResult> {
      const c = groups.find((g) => g.candidates.length && (opts.room?.(g) ?? true))?.candidates[0];
      if (!c) return { kind: 'wait', earliestFreeMs: opts.earliest ?? null, nowMs: 0, why: 'window', centralSkipped: false };
      return { kind: 'lease', lease: { candidate: c, reservationId, tokens, day: 'd' } };
    },
    async cancel(_l: Lease) {
      l.cancelled++;
    },
    async settle(_l: Lease, t: number) {
      l.settled.push(t);
      return { breakerOpened: false, monthCostMicros: 0 };
    },
  };
  return l;
}

function deps(outcomes: Outcome[], over: Partial<ProcessDeps> = {}): ProcessDeps & { calls: Array<{ keyId: string; model: string }>; saved: JobState[]; recorded: UsageEvent[] } {
  const calls: Array<{ keyId: string; model: string }> = [];
  const saved: JobState[] = [];
  const recorded: UsageEvent[] = [];
  const next = (c: { keyId: string; model: string }) => {
    calls.push({ keyId: c.keyId, model: c.model });
    return { outcome: outcomes.shift() ?? success, latencyMs: 1 };
  };
  return {
    fleet: () => buildFleetIndex(fleet),
    leaser: fakeLeaser(),
    upstream: {
      generate: async (c) => next(c),
      generateStream: async (c) => next(c),
    },
    usage: { record: (e) => void recorded.push(e), flush: async () => undefined },
    blame: async () => undefined,
    saveState: async (s) => {
      saved.push(structuredClone(s));
    },
    clock: () => 1_000_000,
    random: () => 0.5,
    logger: pino({ level: 'silent' }),
    calls,
    saved,
    recorded,
    ...over,
  };
}

const job = (extra: Partial<GenerationJobData['request']> = {}, state?: JobState): GenerationJobData => ({
  request: { tenantId: 'acme', contents: 'hello', lane: 'interactive', stream: false, ...extra },
  enqueuedAt: 1_000_000 - 10,
  ...(state ? { state } : {}),
});

describe('processJob', () => {
  it('completes with the answer, the lease and one attempt; settles real tokens; records usage', async () => {
    const d = deps([success]);
    const r = await processJob('j1', job(), d);
    expect(r).toMatchObject({ kind: 'completed', result: { jobId: 'j1', text: 'hi', model: PRO, keyId: 'k1', project: 'p1', central: false } });
    expect(d.calls).toEqual([{ keyId: 'k1', model: PRO }]);
    expect((d.leaser as ReturnType<typeof fakeLeaser>).settled).toEqual([3]);
    expect(d.recorded).toHaveLength(1);
    expect(d.recorded[0]).toMatchObject({ keyId: 'k1', outcome: 'success', promptTokens: 3 });
  });

  it('after a failure tries an untried candidate at once, and records what it tried', async () => {
    const d = deps([failure('overloaded', 503), success]);
    const r = await processJob('j1', job(), d);
    expect(r.kind).toBe('completed');
    expect(d.calls).toEqual([
      { keyId: 'k1', model: PRO },
      { keyId: 'k2', model: PRO },
    ]);
    expect(d.saved.at(-1)?.tried.map((t) => `${t.keyId}/${t.model}`)).toEqual(['k1/gemini-2.5-pro']);
    if (r.kind === 'completed') expect(r.result.attempts.map((a) => a.outcome)).toEqual(['overloaded', 'success']);
  });

  it('a streamed job restarts its event stream once per pass, before any chunk; an unstreamed one never', async () => {
    const log: string[] = [];
    const events: JobEvents = {
      chunk: async () => void log.push('chunk'),
      reset: async () => void log.push('reset'),
      done: async () => void log.push('done'),
      error: async () => void log.push('error'),
      restart: async (_id, reason) => void log.push(`restart: ${reason}`),
    };
    const streaming = deps([failure('overloaded', 503), success], {
      events,
      upstream: {
        generate: async () => ({ outcome: success, latencyMs: 1 }),
        generateStream: async (_c, onChunk) => {
          await onChunk({ text: 'h', parts: [{ text: 'h' }] });
          return { outcome: log.length < 3 ? { ...failure('overloaded', 503), chunksDelivered: 1 } : success, latencyMs: 1 };
        },
      },
    });
    expect((await processJob('j1', job({ stream: true }), streaming)).kind).toBe('completed');
    expect(log.map((l) => l.split(':')[0])).toEqual(['restart', 'chunk', 'reset', 'chunk']);
    log.length = 0;
    await processJob('j2', job(), deps([success], { events }));
    expect(log).toEqual([]);
  });

  it('a bad request ends the job at once with invalid_request after one call', async () => {
    const d = deps([failure('bad_request', 400)]);
    expect(await processJob('j1', job(), d)).toMatchObject({ kind: 'failed', reason: 'invalid_request' });
    expect(d.calls).toHaveLength(1);
  });

  it('a safety block ends the job with blocked', async () => {
    const d = deps([failure('blocked', 200)]);
    expect(await processJob('j1', job(), d)).toMatchObject({ kind: 'failed', reason: 'blocked' });
  });

  it('spends at most 4 upstream attempts, then fails exhausted', async () => {
    const d = deps(Array.from({ length: 10 }, () => failure('network', 0)), {});
    // network failures leave every pair backing off; the job delays, then resumes with its state
    let data = job();
    let r = await processJob('j1', data, d);
    for (let i = 0; i < 10 && r.kind === 'delayed'; i++) {
      data = { ...data, state: d.saved.at(-1) as JobState };
      const at = r.untilMs;
      r = await processJob('j1', data, { ...d, clock: () => at });
    }
    expect(r).toMatchObject({ kind: 'failed', reason: 'exhausted' });
    expect(d.calls).toHaveLength(4);
  });

  it('no capacity: delays until the earliest free moment, without spending an attempt', async () => {
    const d = deps([], { leaser: fakeLeaser({ room: () => false, earliest: 1_005_000 }) });
    const r = await processJob('j1', job(), d);
    expect(r).toEqual({ kind: 'delayed', untilMs: 1_005_000 });
    expect(d.calls).toHaveLength(0);
    expect(d.saved.at(-1)).toMatchObject({ attempts: [], waits: 1 });
  });

  it('no capacity that frees by itself: waits until the deadline, then fails with deadline', async () => {
    const d = deps([], { leaser: fakeLeaser({ room: () => false, earliest: null }) });
    const r = await processJob('j1', job({ deadlineMs: 5_000 }), d);
    expect(r).toEqual({ kind: 'delayed', untilMs: 1_000_000 - 10 + 5_000 });
    const r2 = await processJob('j1', job({ deadlineMs: 5_000 }), { ...d, clock: () => 1_000_000 - 10 + 5_000 });
    expect(r2).toMatchObject({ kind: 'failed', reason: 'deadline' });
  });

  it('maxWaitForPreferredMs: waits for the preferred model instead of downgrading', async () => {
    const d = deps([], { leaser: fakeLeaser({ room: (g) => g.model !== PRO, earliest: 1_002_000 }) });
    const r = await processJob('j1', job({ maxWaitForPreferredMs: 10_000 }), d);
    expect(r).toEqual({ kind: 'delayed', untilMs: 1_002_000 });
    // once the grace period is over it downgrades
    const later = await processJob('j1', job({ maxWaitForPreferredMs: 10_000 }), { ...d, clock: () => 1_000_000 + 20_000 });
    expect(later).toMatchObject({ kind: 'completed', result: { model: FLASH } });
  });

  it('unknown tenant or model: invalid_request, no call', async () => {
    const d = deps([]);
    expect(await processJob('j', job({ tenantId: 'ghost' }), d)).toMatchObject({ kind: 'failed', reason: 'invalid_request' });
    expect(await processJob('j', job({ models: ['gemini-9'] }), d)).toMatchObject({ kind: 'failed', reason: 'invalid_request' });
    expect(d.calls).toHaveLength(0);
  });

  it('after its deadline a job fails with deadline and makes no call', async () => {
    const d = deps([]);
    expect(await processJob('j', job({ deadlineMs: 5 }), d)).toMatchObject({ kind: 'failed', reason: 'deadline' });
    expect(d.calls).toHaveLength(0);
  });

  it('after 3 model switches stays on the model it has', async () => {
    const state: JobState = {
      attempts: [FLASH, PRO, FLASH].map((model, i) => ({ at: i, keyId: 'k1', projectId: 'p1', model, central: false, outcome: 'overloaded' as const, status: 503, latencyMs: 1 })),
      tried: [],
      switches: 3,
      waits: 0,
    };
    const d = deps([success]);
    const r = await processJob('j1', job({}, state), d);
    // without the budget the chain's first model (pro) would be next
    expect(r).toMatchObject({ kind: 'completed', result: { model: FLASH } });
    expect(d.calls).toEqual([{ keyId: 'k1', model: FLASH }]);
  });
});
