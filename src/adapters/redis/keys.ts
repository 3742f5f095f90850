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
  /** the day's RPD pool: requests the ledger reserved that no admission has spent yet */
  rpdPool(dayId: string): string;
}

/** A tenant's own state: producer-side caps, its sliding window and its day and month counters. */
export interface TenantKeys {
  /** job id -> `w<bytes>` (waiting) or `s<bytes>` (started), plus counters `_n` jobs, `_b` bytes, `_w` waiting */
  outstanding: string;
  /** the tenant's own sliding window (rpm/tpm across all its scopes) */
  window: string;
  costs: string;
  /** requests and tokens of a quota day, own and central */
  day(dayId: string): string;
  /** spend of a month, in micro-dollars */
  month(monthId: string): string;
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
  /** tenant id -> its producer-side settings, published with the fleet so producers can check them */
  readonly tenantDirectory: string;
  tenant(tenantId: string): TenantKeys;
  /** a streamed job's events (a Redis stream); its name is also the channel that announces new ones */
  jobEvents(jobId: string): string;
  /** the project that served a conversation's last turn */
  conversation(tenantId: string, conversationId: string): string;
  /** live workers: member = worker id, score = last heartbeat (ms) */
  readonly workers: string;
  /** BullMQ's hash of a generation job (same naming as BullMQ's own key builder) */
  job(queue: string, jobId: string): string;
}

/** Names built once and kept, up to a bound (ids a caller makes up must not grow memory without end). */
function remembered<T>(build: (id: string) => T, max = 10_000): (id: string) => T {
  const seen = new Map<string, T>();
  return (id) => {
    let v = seen.get(id);
    if (v === undefined) {
      if (seen.size >= max) seen.clear();
      v = build(id);
      seen.set(id, v);
    }
    return v;
  };
}

export function redisKeys(prefix: string): RedisKeys {
  const k = (...parts: string[]): string => [prefix, ...parts].join(':');
  // every admission names each candidate's keys: built once per scope, model and group
  const scope = remembered((id: string): ScopeKeys => {
    const pools = remembered((dayId: string) => k('s', id, 'rpd', dayId), 8);
    return Object.freeze({ window: k('s', id, 'w'), costs: k('s', id, 't'), state: k('s', id, 'st'), rpdPool: pools });
  });
  const model = remembered((m: string) => k('m', m));
  const rotation = remembered((g: string) => k('rr', g));
  const tenant = remembered((tenantId: string): TenantKeys => {
    const days = remembered((dayId: string) => k('tn', tenantId, 'd', dayId), 8);
    const months = remembered((monthId: string) => k('tn', tenantId, 'mo', monthId), 4);
    return Object.freeze({ outstanding: k('tn', tenantId, 'out'), window: k('tn', tenantId, 'w'), costs: k('tn', tenantId, 't'), day: days, month: months });
  });
  return Object.freeze({
    prefix,
    scope: (id: ScopeId): ScopeKeys => scope(id),
    model,
    global: k('global'),
    authFailures: (surface: string, subject: string) => k('authfail', surface, subject),
    adminSession: (idDigest: string) => k('adminsession', idDigest),
    rotation,
    note: (topic: string) => k('note', topic),
    fleetVersion: k('fleet', 'version'),
    tenantDirectory: k('tenants'),
    tenant,
    jobEvents: (jobId: string) => k('ev', jobId),
    conversation: (tenantId: string, conversationId: string) => k('conv', tenantId, conversationId),
    workers: k('workers'),
    job: (queue: string, jobId: string) => k(queue, jobId),
  });
}
