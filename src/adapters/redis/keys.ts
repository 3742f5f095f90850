import type { ScopeId } from '../../core/scope.js';

/**
 * Every Redis key quotaflow's own scripts and adapters touch, built in this
 * one place (BullMQ builds its queue keys the same way from the same prefix).
 * With a hash-tagged prefix such as `{quotaflow}` every key lands in one
 * Redis Cluster slot, which is what lets one script touch many of them.
 */
export interface ScopeKeys {
  /** sorted set of reservations in the sliding window, scored by time */
  window: string;
  /** each reservation's costs per window dimension, and their running sums */
  costs: string;
  /** blocks (cooldown, day exclusion) and the scope's circuit breaker */
  state: string;
}

export interface RedisKeys {
  readonly prefix: string;
  scope(scope: ScopeId): ScopeKeys;
  /** model-wide state: a block when several projects fail together */
  model(model: string): string;
  /** system-wide state: the backoff after a correlated failure storm */
  readonly global: string;
  /** failed authentication attempts of one subject (a client address, or `all`) on one surface, in the current window */
  authFailures(surface: string, subject: string): string;
  /** an admin browser session, under a digest of its id (a key listing never shows a usable cookie) */
  adminSession(idDigest: string): string;
  /** round-robin counters of a candidate group */
  rotation(groupId: string): string;
  /** a sliding window of distinct members (storm detection, repeat counts) */
  note(topic: string): string;
  /** the fleet version every worker compares against (also the pub/sub channel) */
  readonly fleetVersion: string;
}

export function redisKeys(prefix: string): RedisKeys {
  const k = (...parts: string[]): string => [prefix, ...parts].join(':');
  return Object.freeze({
    prefix,
    scope: (scope: ScopeId): ScopeKeys => ({ window: k('s', scope, 'w'), costs: k('s', scope, 't'), state: k('s', scope, 'st') }),
    model: (model: string) => k('m', model),
    global: k('global'),
    authFailures: (surface: string, subject: string) => k('authfail', surface, subject),
    adminSession: (idDigest: string) => k('adminsession', idDigest),
    rotation: (groupId: string) => k('rr', groupId),
    note: (topic: string) => k('note', topic),
    fleetVersion: k('fleet', 'version'),
  });
}
