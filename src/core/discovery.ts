/**
 * Discovering a limit nobody told us, for one (project, model, dimension).
 *
 * A model the catalog does not know starts at the safe floor. Held there, it
 * never sends enough to see the 429 that would teach its real limit, so the
 * admitted limit is raised while calls succeed near it, the way TCP finds a
 * link's capacity:
 * - slow start: every success adds its amount (1 request, or its tokens for
 *   TPM), so a window used up to the limit doubles it;
 * - a quota 429 whose QuotaFailure carries quotaValue sets the limit exactly
 *   (phase `exact`);
 * - a quota 429 without it halves the limit (never below the floor), and the
 *   level where it happened becomes the ceiling; additive increase (a step of
 *   `stepFraction` of the ceiling per window) then climbs back to just under
 *   it, `margin` below, and stays there;
 * - only after `quietMs` without a quota 429 on this dimension does the limit
 *   climb past the ceiling or the exact value again — in slow start, as at the
 *   beginning — so a project moved to a higher tier finds its new limits
 *   within a few windows, and a zero quota is retried;
 * - a success raises nothing unless the window's use was near the limit
 *   (`nearFraction`): a limit nobody reaches gets no evidence to grow on;
 * - spend-cap and capacity 429s (`other429`) change nothing: they are not
 *   the project's per-window quota.
 *
 * Bounds, for a fixed real limit H ≥ floor and our window count matching
 * Google's. With quotaValue: one 429, then exactly H. Without: one 429 ends
 * slow start at level H, the climb settles at floor(H·(1 − margin)), within
 * `margin` (2%) under H, about (0.5 − margin) / stepFraction ≈ 10 windows
 * later. If Google counted fewer calls than we did when it refused, the level
 * overshoots and one more 429 (at level H, since the climb is one call at a
 * time) corrects it: at most 2 value-less 429s to settle. Calls already in
 * flight when a 429 arrives may be refused too, but cut at most once per
 * window. After that: at most one 429 per quiet period (the upward probe).
 *
 * The state is small plain JSON (Redis, shared by all workers; Postgres).
 */
import { isWindowDimension, WINDOW_DIMENSIONS, type WindowDimension } from './dimensions.js';
import type { Outcome } from './outcome.js';
import type { ResolvedLimits } from './types.js';

export type DiscoveryPhase = 'slow-start' | 'additive' | 'exact';

export interface DiscoveryState {
  /** the limit, fractional between whole steps; `admittedLimit` gives what to admit */
  limit: number;
  floor: number;
  phase: DiscoveryPhase;
  /** level of the last value-less quota 429, or the exact quotaValue */
  ceiling: number | null;
  /** last quota 429 on this dimension (epoch ms): quiet periods count from here */
  last429At: number | null;
  /** last cut (epoch ms): one cut per window, the calls in flight were sent under the old limit */
  lastCutAt: number | null;
  since: number;
}

export type DiscoveryEvent =
  /** `used`: the window's use including this call; `amount`: this call's share (1, or its tokens) */
  | { kind: 'success'; used: number; amount?: number }
  /** a per-window quota 429 of this dimension; `used` as for success, with the refused call */
  | { kind: 'quota429'; quotaValue?: number | null; used?: number; amount?: number }
  /** a spend-cap or detail-less capacity 429 */
  | { kind: 'other429' };

export interface DiscoveryParams {
  /** the dimension's window: 60 s for RPM/TPM */
  windowMs: number;
  /** without a quota 429 this long, probe past the ceiling / exact value */
  quietMs: number;
  /** raise only when the window's use is at least this share of the limit */
  nearFraction: number;
  /** settle this share under the ceiling */
  margin: number;
  /** additive step per window, as a share of the ceiling */
  stepFraction: number;
}

export const DEFAULT_DISCOVERY_PARAMS: Readonly<DiscoveryParams> = Object.freeze({
  windowMs: 60_000,
  quietMs: 24 * 3_600_000,
  nearFraction: 0.8,
  margin: 0.02,
  stepFraction: 0.05,
});

export function initialDiscovery(floor: number, now: number): DiscoveryState {
  const f = Math.max(0, Math.floor(floor));
  return { limit: f, floor: f, phase: 'slow-start', ceiling: null, last429At: null, lastCutAt: null, since: now };
}

const isQuiet = (s: DiscoveryState, now: number, p: DiscoveryParams): boolean => s.last429At === null || now - s.last429At >= p.quietMs;

/** What to admit now. A zero limit admits one call once the quiet period has passed, to retry it. */
export function admittedLimit(state: DiscoveryState, now: number, params: DiscoveryParams = DEFAULT_DISCOVERY_PARAMS): number {
  const whole = Math.floor(state.limit);
  return whole === 0 && state.last429At !== null && isQuiet(state, now, params) ? 1 : whole;
}

/** One event. Returns the very same object when the event changes nothing, so storage knows to write nothing. */
export function discoveryStep(state: DiscoveryState, event: DiscoveryEvent, now: number, params: DiscoveryParams = DEFAULT_DISCOVERY_PARAMS): DiscoveryState {
  switch (event.kind) {
    case 'other429':
      return state;
    case 'quota429':
      return onQuota429(state, event, now, params);
    case 'success':
      return onSuccess(state, event, now, params);
  }
}

function onQuota429(state: DiscoveryState, e: Extract<DiscoveryEvent, { kind: 'quota429' }>, now: number, p: DiscoveryParams): DiscoveryState {
  const value = e.quotaValue;
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) {
    const exact = Math.floor(value);
    return { ...state, limit: exact, phase: 'exact', ceiling: exact, last429At: now, lastCutAt: now };
  }
  const level = Math.max(state.floor, e.used !== undefined ? Math.floor(e.used - (e.amount ?? 1)) : Math.floor(state.limit));
  if (state.lastCutAt !== null && now - state.lastCutAt < p.windowMs) {
    // sent under the limit we already cut: no second cut, but its level still bounds the real limit
    return { ...state, ceiling: Math.min(state.ceiling ?? level, level), last429At: now };
  }
  const halved = Math.max(state.floor, Math.floor(state.limit / 2));
  return { ...state, limit: halved, phase: 'additive', ceiling: level, last429At: now, lastCutAt: now };
}

function onSuccess(state: DiscoveryState, e: Extract<DiscoveryEvent, { kind: 'success' }>, now: number, p: DiscoveryParams): DiscoveryState {
  const admitted = admittedLimit(state, now, p);
  const amount = Math.max(0, e.amount ?? 1);
  if (amount === 0 || e.used < p.nearFraction * admitted) return state;
  if (state.phase === 'slow-start') return { ...state, limit: state.limit + amount };
  // a quiet period without a 429: the project may have moved to a higher tier; probe as at the start
  if (state.last429At !== null && isQuiet(state, now, p)) return { ...state, limit: Math.max(state.limit, admitted) + amount, phase: 'slow-start', ceiling: null };
  const ceiling = state.ceiling ?? Math.max(state.floor, admitted);
  const step = Math.max(1, Math.ceil(ceiling * p.stepFraction));
  const cap = isQuiet(state, now, p)
    ? Number.POSITIVE_INFINITY
    : state.phase === 'exact'
      ? ceiling
      : Math.max(state.floor, Math.floor(ceiling * (1 - p.margin)));
  // a window's worth of successes (≈ `admitted` amount) adds one step
  const next = Math.min(cap, Math.max(state.limit, admitted) + (amount * step) / Math.max(1, admitted));
  return next > state.limit ? { ...state, limit: next } : state;
}

/*
 * The state as shared storage keeps it: nothing until the first event that
 * changes it, so reading a dimension never writes, and nothing reads as the
 * initial state at the caller's floor. The Redis scripts
 * (adapters/redis/commands/includes/discovery.lua) follow these two exactly.
 */

export function storedAdmittedLimit(stored: DiscoveryState | null, floor: number, now: number, params: DiscoveryParams = DEFAULT_DISCOVERY_PARAMS): number {
  return admittedLimit(stored ?? initialDiscovery(floor, now), now, params);
}

/** The stored state after an event: null (nothing stored) stays null while events change nothing. */
export function storedDiscoveryStep(
  stored: DiscoveryState | null,
  floor: number,
  event: DiscoveryEvent,
  now: number,
  params: DiscoveryParams = DEFAULT_DISCOVERY_PARAMS,
): DiscoveryState | null {
  const state = stored ?? initialDiscovery(floor, now);
  const next = discoveryStep(state, event, now, params);
  return next === state ? stored : next;
}

/**
 * The sliding-minute dimensions of a scope whose limit is discovered: those
 * nobody configured (a guess: the safe floor, or a catalog estimate) and
 * those learned from a 429 (so a project moved to a higher tier finds its
 * new limit after a quiet period). A configured or documented value stays
 * as it is.
 */
export function discoveredDimensions(limits: ResolvedLimits): Partial<Record<WindowDimension, boolean>> {
  const out: Partial<Record<WindowDimension, boolean>> = {};
  for (const d of WINDOW_DIMENSIONS) if (limits.guess?.[d] === true || limits.sources[d] === 'learned' || limits.sources[d] === 'default') out[d] = true;
  return out;
}

/** What a finished call tells discovery: a success, a per-minute quota 429 of one dimension, or another 429 (capacity, spend cap). */
export function discoveryEventOf(outcome: Outcome): { event: 'success' | 'quota429' | 'other429' | 'none'; dimension?: WindowDimension; quotaValue?: number | null } {
  if (outcome.kind === 'success') return { event: 'success' };
  if (outcome.failure === 'rate_unknown') return { event: 'other429' };
  const d = outcome.violation?.dimension;
  if (outcome.failure === 'rate_minute' && d && isWindowDimension(d)) return { event: 'quota429', dimension: d, quotaValue: outcome.violation?.quotaValue ?? null };
  return { event: 'none' };
}
