import { randomUUID } from 'node:crypto';
import type { BlameAction } from '../core/failure-policy.js';
import type { FleetIndex } from '../core/fleet-index.js';
import { emptyState, type Budget, type GenerationJobData, type GenerationResult, type JobState } from '../core/job.js';
import { breakerReportOf, budgetCrossings, budgetFailure, callStep, DEFAULT_BUDGET, planStep, waitStep, type CallReport, type LeasePlan } from '../core/job-step.js';
import type { Candidate } from '../core/lease-plan.js';
import { formatUsd } from '../core/money.js';
import { ZERO_USAGE } from '../core/outcome.js';
import { discoveryEventOf } from '../core/discovery.js';
import { estimateInputTokens } from '../core/tokens.js';
import type { FailureReason } from '../core/types.js';
import type { Logger } from '../logger.js';
import { picoToMicros, type Lease, type Leaser } from './leaser.js';
import { NO_METRICS, type Alerts, type ConversationMemory, type JobEvents, type JobMetrics, type Upstream, type UsageSink } from './ports.js';

export { DEFAULT_BUDGET, type Budget };

export type JobDecision =
  | { kind: 'completed'; result: GenerationResult }
  | { kind: 'failed'; reason: FailureReason; message: string }
  | { kind: 'delayed'; untilMs: number };

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
  /** budget alerts (80 % and 100 % of a tenant's monthly budget) */
  alerts?: Alerts;
  /** a streamed job's chunks and resets (requests with `stream: true`) */
  events?: JobEvents;
  /** where a conversation's last project is kept (requests with `affinity: 'conversation'`) */
  conversations?: ConversationMemory;
}

/**
 * One pass over a generation job: plan, lease, call, decide — the decisions
 * are the pure functions of core/job-step.ts; this is only their I/O. A
 * failure that leaves another candidate ready is retried at once in this
 * pass; otherwise the job is delayed until the earliest moment capacity
 * returns (waiting spends no attempts) and fails only when its budget or
 * deadline is spent.
 */
export async function processJob(jobId: string, data: GenerationJobData, deps: ProcessDeps): Promise<JobDecision> {
  const ctx = { request: data.request, enqueuedAt: data.enqueuedAt, budget: deps.budget ?? DEFAULT_BUDGET };
  const tokens = estimateInputTokens(data.request);
  let state: JobState = data.state ? structuredClone(data.state) : emptyState();
  let preferredGrace = Boolean(data.request.maxWaitForPreferredMs);
  const conversation = data.request.affinity === 'conversation' ? data.request.conversationId : undefined;
  const conversationProject = conversation && deps.conversations ? await deps.conversations.lastProject(data.request.tenantId, conversation) : null;
  // an earlier pass may have been cut off mid-answer (a crashed worker, a job handed back at shutdown): readers drop its chunks
  if (data.request.stream && deps.events) await deps.events.restart(jobId, 'the previous attempt was interrupted; the answer starts over');
  // a worker's first pass over the job: its first admission marks it started (it leaves its tenant's waiting count)
  let started = data.state ? undefined : { tenantId: data.request.tenantId, jobId };

  for (;;) {
    const now = deps.clock();
    const plan = planStep(ctx, state, deps.fleet(), now, { preferredGrace, conversationProject });
    if (plan.kind === 'failed') return plan;

    const leased = await deps.leaser.acquire(plan.groups, tokens, `${jobId}:${state.attempts.length}:${randomUUID().slice(0, 8)}`, {
      lane: data.request.lane,
      ...(plan.gate ? { tenant: plan.gate } : {}),
      ...(started ? { started } : {}),
    });
    started = undefined;
    if (leased.kind === 'refused') return budgetFailure(data.request.tenantId, leased.limit, leased.value);
    if (leased.kind === 'wait') {
      const wait = waitStep(plan, leased, now, state);
      if (wait.kind === 'downgrade') {
        preferredGrace = false;
        continue;
      }
      if (wait.kind === 'failed') return wait;
      await deps.saveState(wait.state);
      return { kind: 'delayed', untilMs: wait.untilMs };
    }

    const call = await callUpstream(jobId, data, leased.lease, plan, tokens, now, deps);
    const step = callStep(jobId, state, call, deps.random);
    state = step.state;
    if (step.switched) (deps.metrics ?? NO_METRICS).switched(step.switched);
    if (call.outcome.kind === 'failure') {
      const { failure, status, message } = call.outcome;
      deps.logger.warn({ jobId, keyId: call.candidate.keyId, model: call.candidate.model, failure, status }, `upstream ${failure}: ${message}`);
    }
    if (step.blame.length) await deps.blame(step.blame);
    if (step.next.kind === 'completed' && conversation && deps.conversations) await deps.conversations.remember(data.request.tenantId, conversation, call.candidate.projectId);
    if (step.next.kind !== 'retry') return step.next;
    await deps.saveState(state);
  }
}

/** The call and what it leaves behind: settled window costs, the breaker report, the tenant's spend, metrics, a usage event. */
async function callUpstream(jobId: string, data: GenerationJobData, lease: Lease, plan: LeasePlan, tokens: number, at: number, deps: ProcessDeps): Promise<CallReport> {
  const candidate: Candidate = lease.candidate;
  const call = { keyId: candidate.keyId, model: candidate.model, request: data.request };
  const events = data.request.stream ? deps.events : undefined;
  const { outcome, latencyMs } = events ? await deps.upstream.generateStream(call, (chunk) => events.chunk(jobId, chunk)) : await deps.upstream.generate(call);
  // chunks of this attempt went out and it failed: readers drop them, the next candidate starts over
  if (events && outcome.kind === 'failure' && (outcome.chunksDelivered ?? 0) > 0) await events.reset(jobId, `${outcome.failure} after ${outcome.chunksDelivered} chunk(s) from ${candidate.model}`);
  const usage = outcome.kind === 'success' ? outcome.usage : ZERO_USAGE;
  const costPico = outcome.kind === 'success' ? deps.fleet().cost(candidate.model, usage, lease.day) : 0n;
  // an answer ends the job: its tenant's slot is freed in this same step
  const answered = outcome.kind === 'success' ? { tenantId: data.request.tenantId, jobId } : undefined;
  const { breakerOpened, monthCostMicros } = await deps.leaser.settle(lease, outcome.kind === 'success' ? usage.promptTokens : tokens, breakerReportOf(outcome), { totalTokens: usage.totalTokens, costPico }, discoveryEventOf(outcome), answered);
  if (plan.gate && costPico > 0n) {
    const before = monthCostMicros - picoToMicros(costPico);
    for (const pct of budgetCrossings(plan.gate.budgetMicros, before, monthCostMicros)) {
      // one subject per threshold: the alert channel sends a (kind, subject) once per window, and 100 % must not be swallowed by 80 %
      deps.alerts?.send({ kind: 'budget', subject: `${data.request.tenantId}/${pct}%`, detail: `tenant ${data.request.tenantId} has spent ${pct}% of its monthly budget (${formatUsd(BigInt(monthCostMicros) * 1_000_000n)} of ${formatUsd(BigInt(plan.gate.budgetMicros ?? 0) * 1_000_000n)} USD)` });
    }
  }
  const label = outcome.kind === 'success' ? 'success' : outcome.failure;
  (deps.metrics ?? NO_METRICS).upstream({ model: candidate.model, keyId: candidate.keyId, projectId: candidate.projectId, outcome: label, latencyMs, promptTokens: usage.promptTokens, candidatesTokens: usage.candidatesTokens, central: candidate.central });
  deps.usage.record({
    at: new Date(at),
    jobId,
    tenantId: data.request.tenantId,
    keyId: candidate.keyId,
    projectId: candidate.projectId,
    model: candidate.model,
    outcome: label,
    status: outcome.kind === 'success' ? 200 : outcome.status,
    ...usage,
    latencyMs,
    central: candidate.central,
    day: lease.day,
    costPico,
  });
  return { candidate, outcome, at, latencyMs, now: deps.clock(), breakerOpened };
}
