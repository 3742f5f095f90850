import type { FailureClass, FailureOutcome } from './outcome.js';

/**
 * How long a job waits before trying the same (key, model) pair again, by
 * failure class. The schedule is data so deployments can tune it; the
 * job budget, not the schedule, bounds how often a job retries.
 */
export interface BackoffConfig {
  /** waits in ms for the 1st, 2nd, ... hit of a class; the last repeats. null = not retryable */
  schedule: Readonly<Record<FailureClass, readonly number[] | null>>;
  /** ±fraction applied to the scheduled wait, so jobs that failed together do not return together */
  jitter: number;
  /** no job waits longer than this for one pair, whatever RetryInfo says */
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffConfig = Object.freeze({
  schedule: Object.freeze({
    overloaded: [2_000, 5_000],
    internal: [2_000, 5_000],
    rate_minute: [5_000, 10_000],
    rate_unknown: [5_000, 10_000],
    // The scope is excluded until midnight by blame; this only spaces the job's own retry.
    rate_day: [5_000, 10_000],
    network: [1_000, 2_000, 4_000],
    timeout: [1_000, 2_000, 4_000],
    // The key or the model is at fault, not the moment: blame removes the pair, another can serve now.
    key_invalid: [0],
    key_forbidden: [0],
    model_not_found: [0],
    // The request itself is wrong or unsafe: sending it again cannot help.
    bad_request: null,
    blocked: null,
  }),
  jitter: 0.2,
  capMs: 15_000,
});

/**
 * The wait before a job's next try of the failed pair, or null when the
 * failure is not retryable. `repeat` is 0 the first time this class hit the
 * job; `random` returns [0, 1). RetryInfo is a floor, the cap still applies.
 */
export function backoffMs(
  failure: FailureClass,
  repeat: number,
  random: () => number,
  retryAfterMs?: number | null,
  config: BackoffConfig = DEFAULT_BACKOFF,
): number | null {
  const steps = config.schedule[failure];
  if (!steps || steps.length === 0) return null;
  const base = steps[Math.min(Math.max(0, Math.floor(repeat)), steps.length - 1)] ?? 0;
  const jittered = base * (1 + (random() * 2 - 1) * config.jitter);
  const floor = retryAfterMs != null && retryAfterMs > 0 ? retryAfterMs : 0;
  return Math.round(Math.min(config.capMs, Math.max(jittered, floor)));
}

export interface ScopeCooldownConfig {
  /** per-minute 429 without RetryInfo: the sliding window frees within a minute */
  minuteDefaultMs: number;
  /** 429 without details: start short, it may be a blip */
  unknownBaseMs: number;
  /** upper bound for any scope cooldown set here */
  capMs: number;
}

export const DEFAULT_SCOPE_COOLDOWN: ScopeCooldownConfig = Object.freeze({ minuteDefaultMs: 60_000, unknownBaseMs: 5_000, capMs: 60_000 });

/**
 * How long the (project, model) scope cools down after a 429, for every job
 * and worker. 0 for classes that do not cool the scope. `repeat` counts
 * earlier hits of the same class, so an unexplained 429 escalates x2 each time.
 */
export function scopeCooldownMs(
  outcome: Pick<FailureOutcome, 'failure' | 'retryAfterMs'>,
  repeat: number,
  config: ScopeCooldownConfig = DEFAULT_SCOPE_COOLDOWN,
): number {
  const hint = outcome.retryAfterMs != null && outcome.retryAfterMs > 0 ? outcome.retryAfterMs : 0;
  switch (outcome.failure) {
    case 'rate_minute':
      return Math.min(config.capMs, hint || config.minuteDefaultMs);
    case 'rate_unknown': {
      const escalated = config.unknownBaseMs * 2 ** Math.min(Math.max(0, Math.floor(repeat)), 16);
      return Math.min(config.capMs, Math.max(escalated, hint));
    }
    default:
      return 0;
  }
}
