import { backoffMs } from './backoff.js';
import type { FailureOutcome, Outcome } from './outcome.js';
import type { BreakerReport } from './breaker.js';
import type { ScopeId } from './scope.js';
import type { Dimension, FailureReason } from './types.js';

/**
 * What a failed call blames, so no worker sends what is known to fail: the
 * right scope for each kind of failure (see docs/architecture.md, "Failures").
 */
export type BlameAction =
  /** the scope cools down; for 429s without details the cooldown escalates while they repeat */
  | { kind: 'cool-scope'; scope: ScopeId; projectId: string; failure: 'rate_minute' | 'rate_unknown'; retryAfterMs: number | null }
  | { kind: 'exclude-day'; scope: ScopeId; projectId: string; model: string }
  /** the scope's circuit breaker opened (the settle step counted the 5xx) */
  | { kind: 'breaker-opened'; scope: ScopeId; projectId: string; model: string }
  | { kind: 'disable-key'; keyId: string; reason: string }
  | { kind: 'model-unsupported'; projectId: string; model: string }
  | { kind: 'learn-limit'; projectId: string; model: string; dimension: Dimension; value: number };

export type FailureDecision =
  /** try again: this (key, model) not before `pairBackoffMs` from now */
  | { kind: 'retry'; pairBackoffMs: number; blame: BlameAction[] }
  | { kind: 'fail'; reason: FailureReason; message: string; blame: BlameAction[] };

export interface FailureContext {
  keyId: string;
  projectId: string;
  model: string;
  scope: ScopeId;
  /** the limit we believed in for the violated dimension, to learn from quotaValue */
  knownLimit: (d: Dimension) => number;
  /** earlier failures of the same class in this job */
  repeat: number;
  random: () => number;
}

/** 5xx count against the scope's breaker; a success closes it; nothing else says anything about it. */
export function breakerReportOf(outcome: Outcome): BreakerReport {
  if (outcome.kind === 'success') return 'success';
  return outcome.failure === 'overloaded' || outcome.failure === 'internal' ? 'failure' : 'none';
}

/** Decides blame and the job's fate from one failed call. Pure. */
export function decideFailure(outcome: FailureOutcome, ctx: FailureContext): FailureDecision {
  const blame: BlameAction[] = [];
  const v = outcome.violation;
  if (v?.quotaValue != null && v.dimension && v.quotaValue !== ctx.knownLimit(v.dimension)) {
    blame.push({ kind: 'learn-limit', projectId: ctx.projectId, model: ctx.model, dimension: v.dimension, value: v.quotaValue });
  }
  const retry = (): FailureDecision => ({
    kind: 'retry',
    pairBackoffMs: backoffMs(outcome.failure, ctx.repeat, ctx.random, outcome.retryAfterMs) ?? 0,
    blame,
  });
  switch (outcome.failure) {
    case 'rate_minute':
    case 'rate_unknown':
      blame.push({ kind: 'cool-scope', scope: ctx.scope, projectId: ctx.projectId, failure: outcome.failure, retryAfterMs: outcome.retryAfterMs });
      return retry();
    case 'rate_day':
      blame.push({ kind: 'exclude-day', scope: ctx.scope, projectId: ctx.projectId, model: ctx.model });
      return retry();
    case 'overloaded':
    case 'internal':
    case 'timeout':
    case 'network':
      return retry();
    case 'key_invalid':
    case 'key_forbidden':
      blame.push({ kind: 'disable-key', keyId: ctx.keyId, reason: `${outcome.failure}: ${outcome.message}`.slice(0, 300) });
      return { kind: 'retry', pairBackoffMs: 24 * 3_600_000, blame };
    case 'model_not_found':
      blame.push({ kind: 'model-unsupported', projectId: ctx.projectId, model: ctx.model });
      return { kind: 'retry', pairBackoffMs: 24 * 3_600_000, blame };
    case 'bad_request':
      return { kind: 'fail', reason: 'invalid_request', message: outcome.message, blame };
    case 'blocked':
      return { kind: 'fail', reason: 'blocked', message: outcome.message, blame };
  }
}

/** Correlated failures: this many distinct projects failing alike within the window is a storm, not their fault. */
export const STORM = { projects: 3, windowMs: 10_000, backoffMs: 10_000 } as const;
