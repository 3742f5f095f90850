import { backoffMs, scopeCooldownMs } from './backoff.js';
import type { FailureOutcome } from './outcome.js';
import type { Dimension, FailureReason } from './types.js';

/** What a failed call blames, so no worker sends what is known to fail (R10). */
export type BlameAction =
  /** rate_unknown cooldowns escalate when the scope keeps answering them; see escalatedCooldownMs */
  | { kind: 'cool-scope'; scope: string; projectId: string; ms: number; failure: 'rate_minute' | 'rate_unknown' }
  | { kind: 'exclude-day'; scope: string; projectId: string; model: string }
  | { kind: 'model-failure'; model: string; scope: string }
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
  scope: string;
  /** the limit we believed in for the violated dimension, to learn from quotaValue */
  knownLimit: (d: Dimension) => number;
  /** earlier failures of the same class in this job */
  repeat: number;
  random: () => number;
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
      blame.push({ kind: 'cool-scope', scope: ctx.scope, projectId: ctx.projectId, ms: scopeCooldownMs(outcome, 0), failure: outcome.failure });
      return retry();
    case 'rate_day':
      blame.push({ kind: 'exclude-day', scope: ctx.scope, projectId: ctx.projectId, model: ctx.model });
      return retry();
    case 'overloaded':
    case 'internal':
      blame.push({ kind: 'model-failure', model: ctx.model, scope: ctx.scope });
      return retry();
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

/** Correlated failures (R13): this many distinct projects failing alike within the window is a storm. */
export const STORM = { projects: 3, windowMs: 10_000, backoffMs: 10_000 } as const;

/** Cooldown for a scope's `repeats`-th 429 without details in two minutes: escalates, capped. */
export function escalatedCooldownMs(baseMs: number, repeats: number): number {
  return Math.min(baseMs * 2 ** Math.max(0, repeats - 1), 60_000);
}
