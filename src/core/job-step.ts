import { breakerReportOf, decideFailure, type BlameAction } from './failure-policy.js';
import type { FleetIndex } from './fleet-index.js';
import type { AttemptRecord, Budget, GenerationResult, JobState, TriedPair } from './job.js';
import { describePin, pinnedKeys, preferProject } from './affinity.js';
import { planLease, type Candidate, type CandidateGroup } from './lease-plan.js';
import type { Outcome } from './outcome.js';
import { DEFAULT_DEADLINE_MS, type GenerationRequest } from './request.js';
import { tenantGate, type TenantLimitsGate } from './tenant-gate.js';
import type { FailureReason } from './types.js';

export { budgetFailure, tenantGate, type TenantLimitsGate } from './tenant-gate.js';

/**
 * A generation job's next step as pure functions of (state, what happened,
 * now, budget). `processJob` (src/app) is the short sequence of I/O around
 * them: plan → lease → call → decide.
 */
export const DEFAULT_BUDGET: Budget = Object.freeze({ maxAttempts: 4, maxSwitches: 3, defaultDeadlineMs: DEFAULT_DEADLINE_MS });

/** Shortest wait between capacity checks: keeps a job from spinning. */
export const MIN_DELAY_MS = 25;

export type Failed = { kind: 'failed'; reason: FailureReason; message: string };

export interface JobContext {
  request: GenerationRequest;
  /** epoch ms the producer enqueued it */
  enqueuedAt: number;
  budget: Budget;
}

export function deadlineOf(ctx: JobContext): number {
  return ctx.enqueuedAt + (ctx.request.deadlineMs ?? ctx.budget.defaultDeadlineMs);
}

export interface LeasePlan {
  kind: 'lease';
  groups: CandidateGroup[];
  /** the tenant's limits to enforce in the same admission step; undefined: none */
  gate: TenantLimitsGate | undefined;
  /** the latest moment this plan may wait for (the deadline, or the end of the preferred model's grace) */
  waitCap: number;
  /** true when only the preferred model was offered (its grace period is still running) */
  preferredOnly: boolean;
  /** pairs this job must not use yet */
  tried: TriedPair[];
}

/** Before a lease: fail now (deadline, budget, unknown tenant/model, no keys), or which candidates to offer. */
export function planStep(ctx: JobContext, state: JobState, fleet: FleetIndex, now: number, opts: { preferredGrace: boolean; conversationProject?: string | null }): Failed | LeasePlan {
  const { request: req, budget } = ctx;
  const deadline = deadlineOf(ctx);
  const fail = (reason: FailureReason, message: string): Failed => ({ kind: 'failed', reason, message });
  if (now >= deadline) return fail('deadline', deadlineMessage(state));
  if (state.attempts.length >= budget.maxAttempts) return fail('exhausted', `${state.attempts.length} upstream attempts made: ${describeAttempts(state.attempts)}`);
  const tenant = fleet.tenant(req.tenantId);
  if (!tenant) return fail('invalid_request', `unknown tenant "${req.tenantId}"`);
  const unknown = (req.models ?? []).filter((m) => !fleet.isKnownModel(m));
  if (unknown.length) return fail('invalid_request', `unknown model(s) ${unknown.join(', ')}; the fleet knows ${fleet.fleet.models.join(', ')}`);
  let chain = req.models ?? tenant.models ?? fleet.fleet.models;
  const last = state.attempts.at(-1);
  if (last && state.switches >= budget.maxSwitches) chain = [last.model];

  const tried = state.tried.filter((t) => t.until > now);
  const pinned = pinnedKeys(fleet, req.affinity);
  const skip = (keyId: string, model: string): boolean => (pinned !== undefined && !pinned(keyId)) || tried.some((t) => t.keyId === keyId && t.model === model);
  // the same for every job of a tenant until the fleet changes, unless this job must skip pairs or is pinned
  const plan =
    tried.length || pinned
      ? planLease(fleet, { tenantId: tenant.id, chain, skip })
      : fleet.memo(`plan:${tenant.id}:${chain.join(',')}`, () => planLease(fleet, { tenantId: tenant.id, chain }));
  if (plan.kind === 'no_keys') return fail('no_keys', plan.detail);
  if (pinned && req.affinity !== undefined && req.affinity !== 'conversation' && plan.groups.length === 0 && !tried.length) {
    return fail('no_keys', describePin(req.affinity, tenant.id));
  }
  // a memoized plan is shared: the conversation's preference goes on a copy
  const groups = req.affinity === 'conversation' && opts.conversationProject ? preferProject(plan.groups, opts.conversationProject) : plan.groups;

  const first = chain[0];
  const graceEnds = ctx.enqueuedAt + (req.maxWaitForPreferredMs ?? 0);
  if (opts.preferredGrace && first && now < graceEnds && chain.length > 1) {
    return { kind: 'lease', groups: groups.filter((g) => g.model === first), gate: tenantGate(tenant), waitCap: Math.min(deadline, graceEnds), preferredOnly: true, tried };
  }
  return { kind: 'lease', groups, gate: tenantGate(tenant), waitCap: deadline, preferredOnly: false, tried };
}

export interface WaitInfo {
  earliestFreeMs: number | null;
  /** what the earliest candidate waits for */
  why: string;
  /** central keys were left out: the tenant's central allowance for the day is spent */
  centralSkipped: boolean;
}

/**
 * Nothing had room: wait until the earliest moment something frees (never
 * past waitCap), or stop preferring. A tenant whose central allowance is
 * spent and whose own keys cannot serve before its deadline fails with
 * `budget` instead of waiting for nothing.
 */
export function waitStep(plan: LeasePlan, wait: WaitInfo, now: number, state: JobState): { kind: 'downgrade' } | { kind: 'delayed'; untilMs: number; state: JobState } | Failed {
  // the preferred model's grace period is over: downgrade on the next pass
  if (plan.preferredOnly && plan.waitCap - now <= MIN_DELAY_MS) return { kind: 'downgrade' };
  const at = [wait.earliestFreeMs, ...plan.tried.map((t) => t.until)].filter((x): x is number => x !== null);
  const earliest = at.length ? Math.min(...at) : null;
  if (wait.centralSkipped && !plan.preferredOnly && (earliest === null || earliest >= plan.waitCap) && plan.gate) {
    return {
      kind: 'failed',
      reason: 'budget',
      message: `tenant "${plan.gate.tenantId}" has used its daily allowance on central keys (centralRpd / centralTokensPerDay) and its own keys cannot serve before the deadline`,
    };
  }
  const until = Math.max(now + MIN_DELAY_MS, Math.min(earliest ?? plan.waitCap, plan.waitCap));
  return { kind: 'delayed', untilMs: until, state: { ...state, waits: state.waits + 1, waitReason: wait.why } };
}

/** Budget thresholds (percent of the monthly budget) a call's cost crossed. */
export function budgetCrossings(budgetMicros: number | null, before: number, after: number): Array<80 | 100> {
  if (budgetMicros === null || budgetMicros <= 0) return [];
  return ([80, 100] as const).filter((p) => before < (budgetMicros * p) / 100 && after >= (budgetMicros * p) / 100);
}

export interface CallReport {
  candidate: Candidate;
  outcome: Outcome;
  /** when the call was made, and how long it took */
  at: number;
  latencyMs: number;
  /** when the answer came back */
  now: number;
  /** the settle step opened the scope's breaker */
  breakerOpened: boolean;
}

export type CallStep = {
  state: JobState;
  attempt: AttemptRecord;
  blame: BlameAction[];
  /** the model changed from the previous attempt's */
  switched: { from: string; to: string } | null;
  next: { kind: 'completed'; result: GenerationResult } | Failed | { kind: 'retry' };
};

/** After a call: record the attempt, decide blame and whether the job is done, failed or tries again. */
export function callStep(jobId: string, state: JobState, call: CallReport, random: () => number): CallStep {
  const { candidate, outcome } = call;
  const last = state.attempts.at(-1);
  const switched = last && last.model !== candidate.model ? { from: last.model, to: candidate.model } : null;
  const attempt: AttemptRecord = {
    at: call.at,
    keyId: candidate.keyId,
    projectId: candidate.projectId,
    model: candidate.model,
    central: candidate.central,
    outcome: outcome.kind === 'success' ? 'success' : outcome.failure,
    status: outcome.kind === 'success' ? 200 : outcome.status,
    latencyMs: call.latencyMs,
  };
  const attempts = [...state.attempts, attempt];
  const next: JobState = { ...state, attempts, switches: state.switches + (switched ? 1 : 0) };
  const opened: BlameAction[] = call.breakerOpened ? [{ kind: 'breaker-opened', scope: candidate.scope, projectId: candidate.projectId, model: candidate.model }] : [];
  if (outcome.kind === 'success') {
    const result: GenerationResult = {
      jobId,
      text: outcome.text,
      parts: outcome.parts,
      model: candidate.model,
      keyId: candidate.keyId,
      project: candidate.projectId,
      central: candidate.central,
      usage: outcome.usage,
      finishReason: outcome.finishReason,
      safetyRatings: outcome.safetyRatings,
      ...(outcome.groundingMetadata ? { groundingMetadata: outcome.groundingMetadata } : {}),
      ...(outcome.citationMetadata ? { citationMetadata: outcome.citationMetadata } : {}),
      modelVersion: outcome.modelVersion,
      responseId: outcome.responseId,
      attempts,
    };
    return { state: next, attempt, blame: opened, switched, next: { kind: 'completed', result } };
  }
  const decision = decideFailure(outcome, {
    keyId: candidate.keyId,
    projectId: candidate.projectId,
    model: candidate.model,
    scope: candidate.scope,
    knownLimit: (d) => candidate.limits[d],
    repeat: attempts.filter((a) => a.outcome === outcome.failure).length - 1,
    random,
  });
  const blame = [...decision.blame, ...opened];
  if (decision.kind === 'fail') return { state: next, attempt, blame, switched, next: { kind: 'failed', reason: decision.reason, message: tenantFacing(jobId, candidate, outcome, decision.message) } };
  const pair: TriedPair = { keyId: candidate.keyId, model: candidate.model, until: call.now + decision.pairBackoffMs };
  const tried = [...state.tried.filter((t) => t.until > call.at && !(t.keyId === pair.keyId && t.model === pair.model)), pair];
  return { state: { ...next, tried }, attempt, blame, switched, next: { kind: 'retry' } };
}

/**
 * What a tenant reads when its job failed on an upstream refusal. Upstream
 * error text from an operator (central) key is the operator's business and
 * may name its projects: the tenant gets the kind of failure and where the
 * operator's log has the details. Safety blocks are our own wording.
 */
function tenantFacing(jobId: string, candidate: Candidate, outcome: Outcome, message: string): string {
  if (!candidate.central || outcome.kind !== 'failure' || outcome.failure !== 'bad_request') return message;
  return `the request was refused upstream (${outcome.failure}, HTTP ${outcome.status ?? 'none'}) on an operator key; the operator's log has the details for job ${jobId}`;
}

/** What the breaker hears about this outcome (re-exported for the I/O step that settles). */
export { breakerReportOf };

export function describeAttempts(attempts: readonly AttemptRecord[]): string {
  return attempts.map((a) => `${a.model}@${a.keyId}=${a.outcome}`).join(', ');
}

function deadlineMessage(state: JobState): string {
  return state.attempts.length
    ? `deadline passed after ${state.attempts.length} attempt(s): ${describeAttempts(state.attempts)}`
    : `deadline passed with no capacity in the model chain (waited ${state.waits} time(s))`;
}
