import type { Admission, BlockKind, BreakerReport, BreakerView, CandidateGroupRef, Limiter } from '../../app/ports.js';
import { breakerPhase, breakerStep, canPass, CLOSED, DEFAULT_BREAKER, type BreakerConfig, type BreakerState } from '../../core/breaker.js';
import { WINDOW_DIMENSIONS, windowRecord, windowVector, type WindowValues } from '../../core/dimensions.js';
import { parseScope, type ScopeId } from '../../core/scope.js';

/**
 * The Limiter port in one process's memory: the same decisions as the Redis
 * scripts (test/contract/limiter.test.ts runs one suite against both), for
 * unit tests and single-process tools. Not shared between processes.
 */
interface Reservation {
  at: number;
  costs: number[];
}

interface ScopeState {
  window: Map<string, Reservation>;
  blocks: Partial<Record<BlockKind, number>>;
  breaker: BreakerState;
}

const NEVER = -1;
const SAMPLE = 32;
const MAX_NOTES = 10_000;

export function createMemoryLimiter(opts: { clock: () => number; windowMs?: number; breaker?: BreakerConfig }): Limiter {
  const { clock } = opts;
  const windowMs = opts.windowMs ?? 60_000;
  const cfg = opts.breaker ?? DEFAULT_BREAKER;
  const scopes = new Map<ScopeId, ScopeState>();
  const modelBlocks = new Map<string, number>();
  const rotation = new Map<string, number>();
  const notes = new Map<string, Map<string, number>>();
  let globalBlock: number | undefined;

  const stateOf = (scope: ScopeId): ScopeState => {
    let s = scopes.get(scope);
    if (!s) {
      s = { window: new Map(), blocks: {}, breaker: CLOSED };
      scopes.set(scope, s);
    }
    return s;
  };
  const ends = (until: number | undefined, now: number): number => (until === undefined ? now : until === -1 ? NEVER : Math.max(until, now));
  const later = (a: number, b: number): number => (a === NEVER || b === NEVER ? NEVER : Math.max(a, b));
  const trim = (s: ScopeState, now: number): void => {
    for (const [id, r] of s.window) if (r.at <= now - windowMs) s.window.delete(id);
  };
  const breakerFree = (b: BreakerState, now: number): number => (canPass(b, now, cfg) ? now : b.kind === 'open' ? b.untilMs : b.kind === 'half_open' ? b.probeAtMs + cfg.probeTimeoutMs : now);

  const evaluate = (scope: ScopeId, limits: WindowValues, costs: number[], now: number): [number, number] => {
    const s = stateOf(scope);
    let free = later(later(ends(globalBlock, now), ends(modelBlocks.get(parseScope(scope).model), now)), later(ends(s.blocks.cool, now), ends(s.blocks.day, now)));
    if (free !== NEVER) free = later(free, breakerFree(s.breaker, now));
    let util = 0;
    if (free === NEVER || free > now) return [free, util];
    trim(s, now);
    const ordered = [...s.window.values()].sort((a, b) => a.at - b.at);
    const lim = windowVector(limits);
    for (let d = 0; d < lim.length; d++) {
      const limit = lim[d] ?? 0;
      const cost = costs[d] ?? 0;
      const sum = ordered.reduce((n, r) => n + (r.costs[d] ?? 0), 0);
      if (cost > limit || limit < 1) return [NEVER, util];
      if (sum + cost > limit) {
        let acc = 0;
        const need = sum + cost - limit;
        const freeing = ordered.find((r) => (acc += r.costs[d] ?? 0) >= need);
        if (!freeing) return [NEVER, util];
        free = Math.max(free, freeing.at + windowMs);
      }
      util = Math.max(util, sum / limit);
    }
    return [free, util];
  };

  const turn = (key: string): number => {
    const n = (rotation.get(key) ?? 0) + 1;
    rotation.set(key, n);
    return n;
  };

  return {
    async admit(reservationId, costValues, groups: readonly CandidateGroupRef[]): Promise<Admission> {
      const now = clock();
      const costs = windowVector(costValues);
      let earliest = NEVER;
      for (const [gi, g] of groups.entries()) {
        const n = g.candidates.length;
        const start = n > 1 ? turn(`${g.id}\u0000_`) % n : 0;
        let best: { util: number; c: number } | null = null;
        let found = 0;
        for (let j = 0; j < n; j++) {
          const c = (start + j) % n;
          const cand = g.candidates[c];
          if (!cand) continue;
          const [free, util] = evaluate(cand.scope, cand.limits, costs, now);
          if (free !== NEVER && free <= now) {
            found++;
            if (!best || util < best.util - 1e-9) best = { util, c };
            if (found >= SAMPLE || best.util <= 0) break;
          } else if (free !== NEVER && (earliest === NEVER || free < earliest)) earliest = free;
        }
        if (!best) continue;
        const scope = g.candidates[best.c]?.scope ?? '';
        const same = g.candidates.flatMap((c, i) => (c.scope === scope ? [i] : []));
        const pick = same.length > 1 ? (same[turn(`${g.id}\u0000${scope}`) % same.length] ?? best.c) : best.c;
        const s = stateOf(scope);
        const probe = s.breaker.kind !== 'closed' && canPass(s.breaker, now, cfg);
        s.breaker = breakerStep(s.breaker, 'pass', now, cfg);
        s.window.set(reservationId, { at: now, costs });
        return { admitted: true, group: gi, candidate: pick, nowMs: now, probe };
      }
      return { admitted: false, earliestFreeMs: earliest === NEVER ? null : earliest, nowMs: now };
    },
    async settle(scope, reservationId, costValues, report: BreakerReport) {
      const now = clock();
      const s = stateOf(scope);
      let breakerOpened = false;
      if (report !== 'none') {
        const before = s.breaker;
        s.breaker = breakerStep(before, report, now, cfg);
        breakerOpened = s.breaker.kind === 'open' && (before.kind !== 'open' || before.untilMs !== s.breaker.untilMs);
      }
      const r = s.window.get(reservationId);
      if (r) {
        s.window.delete(reservationId);
        s.window.set(reservationId, { at: now, costs: windowVector(costValues) });
      }
      return { breakerOpened };
    },
    async release(scope, reservationId) {
      stateOf(scope).window.delete(reservationId);
    },
    async breaker(scope): Promise<BreakerView> {
      const now = clock();
      const b = stateOf(scope).breaker;
      const phase = breakerPhase(b, now);
      return { state: phase, fails: b.kind === 'closed' ? b.failures : 0, openMs: b.kind === 'open' ? Math.max(0, b.untilMs - now) : null };
    },
    async note(topic, member, noteWindowMs) {
      const now = clock();
      const seen = notes.get(topic) ?? new Map<string, number>();
      seen.set(member, now);
      for (const [m, at] of seen) if (at <= now - noteWindowMs) seen.delete(m);
      if (notes.size >= MAX_NOTES && !notes.has(topic)) notes.clear();
      notes.set(topic, seen);
      return seen.size;
    },
    async block(scope, kind, ttlMs, _reason) {
      const s = stateOf(scope);
      const until = ttlMs <= 0 ? -1 : clock() + Math.ceil(ttlMs);
      const cur = s.blocks[kind];
      if (cur === -1 || (until !== -1 && cur !== undefined && cur >= until)) return false;
      s.blocks[kind] = until;
      return true;
    },
    async clearBlock(scope, kind) {
      delete stateOf(scope).blocks[kind];
    },
    async blockModel(model, ttlMs) {
      const until = ttlMs <= 0 ? -1 : clock() + Math.ceil(ttlMs);
      const cur = modelBlocks.get(model);
      if (cur === -1 || (until !== -1 && cur !== undefined && cur >= until)) return false;
      modelBlocks.set(model, until);
      return true;
    },
    async blockGlobal(ttlMs) {
      const until = clock() + Math.ceil(ttlMs);
      if (globalBlock !== undefined && globalBlock >= until) return false;
      globalBlock = until;
      return true;
    },
    async usage(scope) {
      const now = clock();
      const live = [...stateOf(scope).window.values()].filter((r) => r.at > now - windowMs);
      return windowRecord(WINDOW_DIMENSIONS.map((_d, i) => live.reduce((n, r) => n + (r.costs[i] ?? 0), 0)));
    },
    async blocks(scope) {
      const now = clock();
      const left = (u: number | undefined): number | null => (u === undefined ? null : u === -1 ? Infinity : u > now ? u - now : null);
      const s = stateOf(scope);
      return { coolMs: left(s.blocks.cool), dayMs: left(s.blocks.day) };
    },
    async modelBlock(model) {
      const u = modelBlocks.get(model);
      const now = clock();
      return u === undefined ? null : u === -1 ? Infinity : u > now ? u - now : null;
    },
  };
}
