import { describe, expect, it } from 'vitest';
import { buildFleetIndex } from '../../src/core/fleet-index.js';
import { emptyState, type JobState } from '../../src/core/job.js';
import { callStep, DEFAULT_BUDGET, planStep, waitStep, type JobContext, type LeasePlan } from '../../src/core/job-step.js';
import type { Candidate } from '../../src/core/lease-plan.js';
import { ZERO_USAGE, type FailureOutcome, type Outcome } from '../../src/core/outcome.js';
import type { Fleet } from '../../src/core/types.js';

/** The job's decisions as pure functions: driven with plain values, no fakes. */
const PRO = 'gemini-2.5-pro';
const FLASH = 'gemini-2.5-flash';
const fleet = buildFleetIndex({
  version: '1',
  models: [PRO, FLASH],
  projects: [{ id: 'p1', tier: 'free', limits: {} }],
  tenants: [{ id: 'acme', keyMode: 'own-only', models: null }],
  keys: [{ id: 'k1', tenantId: 'acme', projectId: 'p1', priority: 1, enabled: true, disabledReason: null }],
  learned: [],
  unsupported: [],
} satisfies Fleet);
const NOW = 1_000_000;
const ctx = (extra: Partial<JobContext['request']> = {}): JobContext => ({ request: { tenantId: 'acme', contents: 'hi', lane: 'interactive', stream: false, ...extra }, enqueuedAt: NOW - 10, budget: DEFAULT_BUDGET });
const cand = (model = PRO): Candidate => ({ keyId: 'k1', projectId: 'p1', model, central: false, scope: `p1|${model}`, limits: fleet.limits('p1', model) });
const ok: Outcome = { kind: 'success', text: 'hello', parts: [{ text: 'hello' }], usage: { ...ZERO_USAGE, promptTokens: 3, candidatesTokens: 2, totalTokens: 5 }, finishReason: 'STOP', safetyRatings: [], modelVersion: null, responseId: null };
const failed = (failure: FailureOutcome['failure'], status: number | null, extra: Partial<FailureOutcome> = {}): FailureOutcome => ({ kind: 'failure', failure, status, message: failure, retryAfterMs: null, violation: null, ...extra });
const call = (outcome: Outcome, model = PRO, breakerOpened = false) => ({ candidate: cand(model), outcome, at: NOW, latencyMs: 7, now: NOW + 7, breakerOpened });

describe('planStep', () => {
  it('offers the chain in order for a known tenant', () => {
    const p = planStep(ctx(), emptyState(), fleet, NOW, { preferredGrace: false });
    if (p.kind !== 'lease') throw new Error(p.message);
    expect(p.groups.map((g) => g.model)).toEqual([PRO, FLASH]);
    expect(p.waitCap).toBe(NOW - 10 + DEFAULT_BUDGET.defaultDeadlineMs);
  });

  it('fails at the deadline, after the attempt budget, for unknown tenants and models', () => {
    expect(planStep(ctx({ deadlineMs: 5 }), emptyState(), fleet, NOW, { preferredGrace: false })).toMatchObject({ kind: 'failed', reason: 'deadline' });
    const spent: JobState = { ...emptyState(), attempts: Array.from({ length: 4 }, (_, i) => ({ at: i, keyId: 'k1', projectId: 'p1', model: PRO, central: false, outcome: 'network' as const, status: null, latencyMs: 1 })) };
    expect(planStep(ctx(), spent, fleet, NOW, { preferredGrace: false })).toMatchObject({ kind: 'failed', reason: 'exhausted' });
    expect(planStep(ctx({ tenantId: 'ghost' }), emptyState(), fleet, NOW, { preferredGrace: false })).toMatchObject({ kind: 'failed', reason: 'invalid_request' });
    expect(planStep(ctx({ models: ['gemini-9'] }), emptyState(), fleet, NOW, { preferredGrace: false })).toMatchObject({ kind: 'failed', reason: 'invalid_request' });
  });

  it('skips pairs still backing off, and offers only the preferred model during its grace', () => {
    const state: JobState = { ...emptyState(), tried: [{ keyId: 'k1', model: PRO, until: NOW + 1_000 }] };
    const p = planStep(ctx(), state, fleet, NOW, { preferredGrace: false });
    if (p.kind !== 'lease') throw new Error('expected a lease plan');
    expect(p.groups.map((g) => g.model)).toEqual([FLASH]);
    const g = planStep(ctx({ maxWaitForPreferredMs: 5_000 }), emptyState(), fleet, NOW, { preferredGrace: true });
    expect(g).toMatchObject({ kind: 'lease', preferredOnly: true, waitCap: NOW - 10 + 5_000 });
  });
});

describe('waitStep', () => {
  const plan = (over: Partial<LeasePlan> = {}): LeasePlan => ({ kind: 'lease', groups: [], gate: undefined, waitCap: NOW + 60_000, preferredOnly: false, tried: [], ...over });
  const at = (earliestFreeMs: number | null) => ({ earliestFreeMs, why: 'window', centralSkipped: false });
  it('waits for the earliest moment something frees, never past the cap, counting the wait', () => {
    expect(waitStep(plan(), at(NOW + 5_000), NOW, emptyState())).toMatchObject({ kind: 'delayed', untilMs: NOW + 5_000, state: { waits: 1, waitReason: 'window' } });
    expect(waitStep(plan(), at(NOW + 500_000), NOW, emptyState())).toMatchObject({ untilMs: NOW + 60_000 });
    expect(waitStep(plan(), at(null), NOW, emptyState())).toMatchObject({ untilMs: NOW + 60_000 });
    expect(waitStep(plan({ tried: [{ keyId: 'k1', model: PRO, until: NOW + 2_000 }] }), at(NOW + 5_000), NOW, emptyState())).toMatchObject({ untilMs: NOW + 2_000 });
  });
  it('stops preferring once the grace period is over', () => {
    expect(waitStep(plan({ preferredOnly: true, waitCap: NOW + 10 }), at(NOW + 5_000), NOW, emptyState())).toEqual({ kind: 'downgrade' });
  });
});

describe('callStep', () => {
  it('a success completes the job with the answer and the attempt', () => {
    const s = callStep('j1', emptyState(), call(ok), () => 0.5);
    expect(s.next).toMatchObject({ kind: 'completed', result: { jobId: 'j1', text: 'hello', model: PRO, keyId: 'k1', central: false, attempts: [{ outcome: 'success', status: 200, latencyMs: 7 }] } });
    expect(s.blame).toEqual([]);
  });

  it('a retryable failure backs the pair off by its kind and tries again', () => {
    const s = callStep('j1', emptyState(), call(failed('overloaded', 503)), () => 0.5);
    expect(s.next).toEqual({ kind: 'retry' });
    expect(s.state.tried).toEqual([{ keyId: 'k1', model: PRO, until: NOW + 7 + 2_000 }]);
    expect(s.state.attempts).toHaveLength(1);
  });

  it('bad requests and safety blocks end the job; nothing is blamed', () => {
    expect(callStep('j1', emptyState(), call(failed('bad_request', 400)), Math.random)).toMatchObject({ next: { kind: 'failed', reason: 'invalid_request' }, blame: [] });
    expect(callStep('j1', emptyState(), call(failed('blocked', 200)), Math.random)).toMatchObject({ next: { kind: 'failed', reason: 'blocked' }, blame: [] });
  });

  it('counts a model switch and blames an opened breaker on its scope', () => {
    const before = callStep('j1', emptyState(), call(failed('overloaded', 503), PRO, true), () => 0.5);
    expect(before.blame).toContainEqual({ kind: 'breaker-opened', scope: `p1|${PRO}`, projectId: 'p1', model: PRO });
    const after = callStep('j1', before.state, call(ok, FLASH), () => 0.5);
    expect(after.switched).toEqual({ from: PRO, to: FLASH });
    expect(after.state.switches).toBe(1);
  });

  it('a per-minute 429 cools the scope and learns the limit Google named', () => {
    const s = callStep('j1', emptyState(), call(failed('rate_minute', 429, { retryAfterMs: 20_000, violation: { quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier', quotaMetric: null, quotaValue: 2, dimension: 'rpm' } })), () => 0.5);
    expect(s.blame.map((b) => b.kind)).toEqual(['learn-limit', 'cool-scope']);
  });
});
