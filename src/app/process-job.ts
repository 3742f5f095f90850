import { randomUUID } from 'node:crypto';
import type { AttemptRecord, GenerationJobData, GenerationResult, JobState, TriedPair } from '../adapters/queue/job-contract.js';
import { emptyState } from '../adapters/queue/job-contract.js';
import { decideFailure, type BlameAction } from '../core/failure-policy.js';
import type { FleetIndex } from '../core/fleet-index.js';
import { planLease, type CandidateGroup } from '../core/lease-plan.js';
import { DEFAULT_DEADLINE_MS } from '../core/request.js';
import { estimateInputTokens } from '../core/tokens.js';
import type { FailureReason } from '../core/types.js';
import type { Logger } from '../logger.js';
import type { Leaser } from './leaser.js';
import { NO_METRICS, type JobMetrics, type Upstream, type UsageSink } from './ports.js';

export type JobDecision =
  | { kind: 'completed'; result: GenerationResult }
  | { kind: 'failed'; reason: FailureReason; message: string }
  | { kind: 'delayed'; untilMs: number };

export interface Budget {
  maxAttempts: number;
  maxSwitches: number;
  defaultDeadlineMs: number;
}

export const DEFAULT_BUDGET: Budget = { maxAttempts: 4, maxSwitches: 3, defaultDeadlineMs: DEFAULT_DEADLINE_MS };

export interface ProcessDeps {
  fleet: () => FleetIndex;
  leaser: Leaser;
  upstream: Upstream;
  usage: UsageSink;
  blame: (actions: readonly BlameAction[]) => Promise<void>;
  /** persists the job's state (job data) before anything that might be lost */
  saveState: (state: JobState) => Promise<void>;
  clock: () => number;
  random: () => number;
  logger: Logger;
  budget?: Budget;
  metrics?: JobMetrics;
}

/** Shortest wait between capacity checks: keeps a job from spinning. */
const MIN_DELAY_MS = 25;

/**
 * One pass over a generation job: lease, call, settle, decide. Failures that
 * leave another candidate ready are retried at once in this pass; otherwise
 * the job is delayed until the earliest moment capacity returns (waiting
 * spends no attempts) and fails only when its budget or deadline is spent.
 */
export async function processJob(jobId: string, data: GenerationJobData, deps: ProcessDeps): Promise<JobDecision> {
  const budget = deps.budget ?? DEFAULT_BUDGET;
  const metrics = deps.metrics ?? NO_METRICS;
  const req = data.request;
  const state: JobState = data.state ? structuredClone(data.state) : emptyState();
  const deadline = data.enqueuedAt + (req.deadlineMs ?? budget.defaultDeadlineMs);
  const tokens = estimateInputTokens(req);
  let preferredGrace = Boolean(req.maxWaitForPreferredMs);
  const fail = (reason: FailureReason, message: string): JobDecision => ({ kind: 'failed', reason, message });

  for (;;) {
    const now = deps.clock();
    if (now >= deadline) return fail('deadline', deadlineMessage(state));
    if (state.attempts.length >= budget.maxAttempts) {
      return fail('exhausted', `${state.attempts.length} upstream attempts made: ${describeAttempts(state.attempts)}`);
    }
    const fleet = deps.fleet();
    const tenant = fleet.tenant(req.tenantId);
    if (!tenant) return fail('invalid_request', `unknown tenant "${req.tenantId}"`);
    const unknown = (req.models ?? []).filter((m) => !fleet.isKnownModel(m));
    if (unknown.length) return fail('invalid_request', `unknown model(s) ${unknown.join(', ')}; the fleet knows ${fleet.fleet.models.join(', ')}`);
    let chain = req.models ?? tenant.models ?? fleet.fleet.models;
    const last = state.attempts.at(-1);
    if (last && state.switches >= budget.maxSwitches) chain = [last.model];

    const tried = state.tried.filter((t) => t.until > now);
    const skip = (keyId: string, model: string): boolean => tried.some((t) => t.keyId === keyId && t.model === model);
    // the same for every job of a tenant until the fleet changes, unless this job must skip pairs
    const plan = tried.length
      ? planLease(fleet, { tenantId: tenant.id, chain, skip })
      : fleet.memo(`plan:${tenant.id}:${chain.join(',')}`, () => planLease(fleet, { tenantId: tenant.id, chain }));
    if (plan.kind === 'no_keys') return fail('no_keys', plan.detail);

    let groups: CandidateGroup[] = plan.groups;
    let waitCap = deadline;
    const first = chain[0];
    const graceEnds = data.enqueuedAt + (req.maxWaitForPreferredMs ?? 0);
    if (preferredGrace && first && now < graceEnds && chain.length > 1) {
      groups = groups.filter((g) => g.model === first);
      waitCap = Math.min(deadline, graceEnds);
    }

    const reservationId = `${jobId}:${state.attempts.length}:${randomUUID().slice(0, 8)}`;
    const leased = await deps.leaser.acquire(groups, tokens, reservationId);
    if (leased.kind === 'wait') {
      if (groups !== plan.groups && waitCap - now <= MIN_DELAY_MS) {
        // the preferred model's grace period is over: downgrade on the next pass
        preferredGrace = false;
        continue;
      }
      const retriesAt = tried.map((t) => t.until);
      const candidatesAt = [leased.earliestFreeMs, ...retriesAt].filter((x): x is number => x !== null);
      const earliest = candidatesAt.length ? Math.min(...candidatesAt) : waitCap;
      const until = Math.max(now + MIN_DELAY_MS, Math.min(earliest, waitCap));
      state.waits++;
      await deps.saveState(state);
      return { kind: 'delayed', untilMs: until };
    }

    const { candidate } = leased.lease;
    if (last && last.model !== candidate.model) {
      state.switches++;
      metrics.switched({ from: last.model, to: candidate.model });
    }
    const { outcome, latencyMs } = await deps.upstream.generate({ keyId: candidate.keyId, model: candidate.model, request: req });
    const attempt: AttemptRecord = {
      at: now,
      keyId: candidate.keyId,
      projectId: candidate.projectId,
      model: candidate.model,
      central: candidate.central,
      outcome: outcome.kind === 'success' ? 'success' : outcome.failure,
      status: outcome.kind === 'success' ? 200 : outcome.status,
      latencyMs,
    };
    state.attempts.push(attempt);
    const usage = outcome.kind === 'success' ? outcome.usage : { promptTokens: 0, candidatesTokens: 0, totalTokens: 0, thoughtsTokens: 0, cachedTokens: 0 };
    await deps.leaser.settle(leased.lease, outcome.kind === 'success' ? usage.promptTokens : tokens, outcome.kind === 'success');
    metrics.upstream({ model: candidate.model, keyId: candidate.keyId, projectId: candidate.projectId, outcome: attempt.outcome, latencyMs, promptTokens: usage.promptTokens, candidatesTokens: usage.candidatesTokens, central: candidate.central });
    deps.usage.record({
      at: new Date(now),
      jobId,
      tenantId: req.tenantId,
      keyId: candidate.keyId,
      projectId: candidate.projectId,
      model: candidate.model,
      outcome: attempt.outcome,
      status: attempt.status,
      ...usage,
      latencyMs,
      central: candidate.central,
    });

    if (outcome.kind === 'success') {
      return {
        kind: 'completed',
        result: {
          jobId,
          text: outcome.text,
          model: candidate.model,
          keyId: candidate.keyId,
          project: candidate.projectId,
          central: candidate.central,
          usage,
          finishReason: outcome.finishReason,
          attempts: state.attempts,
        },
      };
    }

    const decision = decideFailure(outcome, {
      keyId: candidate.keyId,
      projectId: candidate.projectId,
      model: candidate.model,
      scope: candidate.scope,
      knownLimit: (d) => candidate.limits[d],
      repeat: state.attempts.filter((a) => a.outcome === outcome.failure).length - 1,
      random: deps.random,
    });
    deps.logger.warn(
      { jobId, keyId: candidate.keyId, model: candidate.model, failure: outcome.failure, status: outcome.status },
      `upstream ${outcome.failure}: ${outcome.message}`,
    );
    await deps.blame(decision.blame);
    if (decision.kind === 'fail') return fail(decision.reason, decision.message);
    const pair: TriedPair = { keyId: candidate.keyId, model: candidate.model, until: deps.clock() + decision.pairBackoffMs };
    state.tried = [...state.tried.filter((t) => t.until > now && !(t.keyId === pair.keyId && t.model === pair.model)), pair];
    await deps.saveState(state);
  }
}

function describeAttempts(attempts: readonly AttemptRecord[]): string {
  return attempts.map((a) => `${a.model}@${a.keyId}=${a.outcome}`).join(', ');
}

function deadlineMessage(state: JobState): string {
  return state.attempts.length
    ? `deadline passed after ${state.attempts.length} attempt(s): ${describeAttempts(state.attempts)}`
    : `deadline passed with no capacity in the model chain (waited ${state.waits} time(s))`;
}
