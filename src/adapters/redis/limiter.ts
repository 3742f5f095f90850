import type { Redis } from 'ioredis';
import { ADMIT_LUA, BLOCK_LUA, BREAKER_FAIL_LUA, NOTE_LUA, SETTLE_LUA } from './admission-script.js';

export const WINDOW_MS = 60_000;

export interface ScopeCandidate {
  /** `${projectId}|${model}` */
  scope: string;
  rpm: number;
  tpm: number;
}

export interface CandidateGroupRef {
  /** stable id of the group, for round robin among its ties */
  id: string;
  candidates: readonly ScopeCandidate[];
}

export type Admission =
  /** probe: this lease is the one request a half-open breaker lets through */
  | { admitted: true; group: number; candidate: number; nowMs: number; probe: boolean }
  /** earliestFreeMs null: nothing frees by itself (only a fleet change or a day rollover would help) */
  | { admitted: false; earliestFreeMs: number | null; nowMs: number };

export type BlockKind = 'cool' | 'day';

/**
 * Limiter port: exact RPM/TPM admission over a sliding window, shared by all
 * workers through atomic Redis scripts. `admit` walks the groups in order and
 * reserves on the least utilised scope with room in the first group that has
 * one; it never admits over a limit.
 */
export interface Limiter {
  admit(reservationId: string, tokens: number, groups: readonly CandidateGroupRef[]): Promise<Admission>;
  /**
   * After the call: tokens become what upstream counted; the entry is
   * re-stamped to now (conservative). A success also closes the model's breaker.
   */
  settle(scope: string, reservationId: string, tokens: number, succeeded: boolean): Promise<void>;
  /** Counts a 5xx against the model's breaker; true when this opened it. */
  modelFailure(model: string, opts?: { threshold?: number; openMs?: number }): Promise<boolean>;
  breaker(model: string): Promise<{ state: 'closed' | 'open' | 'half_open'; fails: number; openMs: number | null }>;
  /** Notes a failure under `topic`; returns the distinct members seen within windowMs (this one included). */
  note(topic: string, member: string, windowMs: number): Promise<number>;
  /** Blocks every scope for ttlMs (correlated failures: back off globally). */
  blockGlobal(ttlMs: number, reason: string): Promise<boolean>;
  /** Drops a reservation whose call was never made. */
  release(scope: string, reservationId: string): Promise<void>;
  /** Blocks a scope for ttlMs (<= 0: until cleared); never shortens an existing block. */
  block(scope: string, kind: BlockKind, ttlMs: number, reason: string): Promise<boolean>;
  clearBlock(scope: string, kind: BlockKind): Promise<void>;
  /** Blocks a model everywhere (breaker open, global backoff). */
  blockModel(model: string, ttlMs: number, reason: string): Promise<boolean>;
  /** Current use of a scope in the window: requests and input tokens. */
  usage(scope: string): Promise<{ requests: number; tokens: number }>;
  blocks(scope: string): Promise<{ coolMs: number | null; dayMs: number | null }>;
}

type Scripted = Redis & {
  qfAdmit(...args: Array<string | number>): Promise<[number, number, number, number?, number?]>;
  qfSettle(w: string, h: string, brk: string, open: string, resId: string, mode: string, tokens: number, windowMs: number, ok: string): Promise<number>;
  qfBreakerFail(brk: string, open: string, threshold: number, openMs: number): Promise<number>;
  qfNote(key: string, member: string, windowMs: number): Promise<number>;
  qfBlock(key: string, ttl: number, reason: string): Promise<number>;
};

export function createRedisLimiter(redis: Redis, prefix: string, windowMs = WINDOW_MS): Limiter {
  const r = redis as Scripted;
  if (!('qfAdmit' in r)) {
    redis.defineCommand('qfAdmit', { numberOfKeys: 0, lua: ADMIT_LUA });
    redis.defineCommand('qfSettle', { numberOfKeys: 4, lua: SETTLE_LUA });
    redis.defineCommand('qfBreakerFail', { numberOfKeys: 2, lua: BREAKER_FAIL_LUA });
    redis.defineCommand('qfNote', { numberOfKeys: 1, lua: NOTE_LUA });
    redis.defineCommand('qfBlock', { numberOfKeys: 1, lua: BLOCK_LUA });
  }
  const base = (scope: string): string => `${prefix}:s:${scope}`;
  const modelKey = (model: string): string => `${prefix}:m:${model}`;
  const modelOf = (scope: string): string => scope.slice(scope.indexOf('|') + 1);
  const settleKeys = (scope: string): [string, string, string, string] => [`${base(scope)}:w`, `${base(scope)}:t`, `${modelKey(modelOf(scope))}:brk`, `${modelKey(modelOf(scope))}:open`];

  return {
    async admit(reservationId, tokens, groups) {
      const args: Array<string | number> = [prefix, reservationId, tokens, windowMs, groups.length];
      for (const g of groups) {
        args.push(g.id, g.candidates.length);
        for (const c of g.candidates) args.push(c.scope, c.rpm, c.tpm);
      }
      const res = await r.qfAdmit(...args);
      if (res[0] === 1) return { admitted: true, group: res[1] - 1, candidate: res[2] - 1, nowMs: res[3] ?? Date.now(), probe: res[4] === 1 };
      return { admitted: false, earliestFreeMs: res[1] < 0 ? null : res[1], nowMs: res[2] };
    },
    async settle(scope, reservationId, tokens, succeeded) {
      await r.qfSettle(...settleKeys(scope), reservationId, 'settle', tokens, windowMs, succeeded ? '1' : '0');
    },
    async release(scope, reservationId) {
      await r.qfSettle(...settleKeys(scope), reservationId, 'release', 0, windowMs, '0');
    },
    async modelFailure(model, opts = {}) {
      return (await r.qfBreakerFail(`${modelKey(model)}:brk`, `${modelKey(model)}:open`, opts.threshold ?? 3, opts.openMs ?? 300_000)) === 1;
    },
    async breaker(model) {
      const [h, ttl] = await Promise.all([redis.hgetall(`${modelKey(model)}:brk`), redis.pttl(`${modelKey(model)}:open`)]);
      const state = h.state === 'open' || h.state === 'half_open' ? h.state : 'closed';
      return { state, fails: Number(h.fails ?? 0), openMs: ttl > 0 ? ttl : null };
    },
    async note(topic, member, windowMs) {
      return r.qfNote(`${prefix}:note:${topic}`, member, windowMs);
    },
    async blockGlobal(ttlMs, reason) {
      return (await r.qfBlock(`${prefix}:global:open`, Math.ceil(ttlMs), reason)) === 1;
    },
    async block(scope, kind, ttlMs, reason) {
      return (await r.qfBlock(`${base(scope)}:${kind}`, Math.ceil(ttlMs), reason)) === 1;
    },
    async clearBlock(scope, kind) {
      await redis.del(`${base(scope)}:${kind}`);
    },
    async blockModel(model, ttlMs, reason) {
      return (await r.qfBlock(`${prefix}:m:${model}:open`, Math.ceil(ttlMs), reason)) === 1;
    },
    async usage(scope) {
      // exactly the live window: entries not yet trimmed by an admission are left out
      const cutoff = Date.now() - windowMs;
      const live = await redis.zrangebyscore(`${base(scope)}:w`, `(${cutoff}`, '+inf');
      if (!live.length) return { requests: 0, tokens: 0 };
      const tokens = await redis.hmget(`${base(scope)}:t`, ...live);
      return { requests: live.length, tokens: tokens.reduce((n, t) => n + Number(t ?? 0), 0) };
    },
    async blocks(scope) {
      const [cool, day] = await Promise.all([redis.pttl(`${base(scope)}:cool`), redis.pttl(`${base(scope)}:day`)]);
      const ms = (t: number): number | null => (t === -2 ? null : t === -1 ? Infinity : t);
      return { coolMs: ms(cool), dayMs: ms(day) };
    },
  };
}
