/**
 * The circuit breaker of one (project, model): 503/500 count against it; after
 * `failureThreshold` consecutive failures it opens for `openMs`; then it is
 * half open and lets exactly ONE probe through; the probe's success closes
 * it, its failure re-opens it for another `openMs`.
 *
 * This pure model is the specification. Workers share the breaker through a
 * Redis script with the same transitions (one atomic step per event), and the
 * unit tests of this file are the reference that script is checked against.
 */
export interface BreakerConfig {
  /** consecutive failures that open the breaker */
  failureThreshold: number;
  /** how long it stays open before a probe may go */
  openMs: number;
  /** a probe that never reported (its worker died) frees the slot after this long */
  probeTimeoutMs: number;
}

export const DEFAULT_BREAKER: BreakerConfig = Object.freeze({ failureThreshold: 3, openMs: 5 * 60_000, probeTimeoutMs: 60_000 });

export type BreakerState =
  | { kind: 'closed'; failures: number }
  /** no request passes before `untilMs`; from then on one probe may */
  | { kind: 'open'; untilMs: number }
  /** one probe is in flight since `probeAtMs`; nothing else passes */
  | { kind: 'half_open'; probeAtMs: number };

/**
 * `pass`: a request went through (call it after canPass said yes; in the
 * half-open phase it takes the probe slot). `success` / `failure`: how a
 * request that counts against the model ended.
 */
export type BreakerEvent = 'pass' | 'success' | 'failure';

/** How a finished call is reported: a success, a failure that counts (5xx), or nothing the breaker cares about. */
export type BreakerReport = Exclude<BreakerEvent, 'pass'> | 'none';

export const CLOSED: BreakerState = Object.freeze({ kind: 'closed', failures: 0 });

const open = (nowMs: number, config: BreakerConfig): BreakerState => ({ kind: 'open', untilMs: nowMs + config.openMs });

/** Whether a request may go through now. */
export function canPass(state: BreakerState, nowMs: number, config: BreakerConfig = DEFAULT_BREAKER): boolean {
  switch (state.kind) {
    case 'closed':
      return true;
    case 'open':
      return nowMs >= state.untilMs;
    case 'half_open':
      return nowMs - state.probeAtMs >= config.probeTimeoutMs;
  }
}

/** The phase as operators see it: an open breaker past its period is half open. */
export function breakerPhase(state: BreakerState, nowMs: number): BreakerState['kind'] {
  return state.kind === 'open' && nowMs >= state.untilMs ? 'half_open' : state.kind;
}

/** One transition. Pure: the same (state, event, now) always gives the same state. */
export function breakerStep(state: BreakerState, event: BreakerEvent, nowMs: number, config: BreakerConfig = DEFAULT_BREAKER): BreakerState {
  switch (state.kind) {
    case 'closed':
      if (event === 'success') return state.failures === 0 ? state : CLOSED;
      if (event === 'failure') return state.failures + 1 >= config.failureThreshold ? open(nowMs, config) : { kind: 'closed', failures: state.failures + 1 };
      return state;
    case 'open':
      // While open, late answers of calls sent before it opened change nothing.
      if (nowMs < state.untilMs) return state;
      if (event === 'pass') return { kind: 'half_open', probeAtMs: nowMs };
      return event === 'success' ? CLOSED : open(nowMs, config);
    case 'half_open':
      if (event === 'pass') return canPass(state, nowMs, config) ? { kind: 'half_open', probeAtMs: nowMs } : state;
      return event === 'success' ? CLOSED : open(nowMs, config);
  }
}
