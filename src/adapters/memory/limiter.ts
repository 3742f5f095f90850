import type { Admission, BlockKind, BreakerReport, BreakerView, DiscoveredLimit, Limiter, ScopeCandidate, TenantGate, WaitReason } from '../../app/ports.js';
import { admittedLimit, DEFAULT_DISCOVERY_PARAMS, storedAdmittedLimit, storedDiscoveryStep, type DiscoveryEvent, type DiscoveryParams, type DiscoveryState } from '../../core/discovery.js';
import { breakerPhase, breakerStep, canPass, CLOSED, DEFAULT_BREAKER, type BreakerConfig, type BreakerState } from '../../core/breaker.js';
import { WINDOW_DIMENSIONS, windowRecord, windowVector, type WindowDimension } from '../../core/dimensions.js';
import { parseScope, type ScopeId } from '../../core/scope.js';
import { freeAfter, type Reservation } from './sliding-window.js';

/**
 * The Limiter port in one process's memory: the same decisions as the Redis
 * scripts (test/contract/limiter.test.ts runs one suite against both), for
 * unit tests and single-process tools. Not shared between processes.
 */
interface ScopeState {
  window: Map<string, Reservation>;
  blocks: Partial<Record<BlockKind | 'iw', number>>;
  /** why the scope is blocked for the day ('rpd_full' yields to the day's RPD pool) */
  dayReason?: string;
  breaker: BreakerState;
  discovery: Partial<Record<WindowDimension, DiscoveryState>>;
}

interface TenantState {
  window: Map<string, Reservation>;
  days: Map<string, { req: number; tok: number; creq: number; ctok: number }>;
  months: Map<string, number>;
}

const NEVER = -1;
/** the least utilised of the first SAMPLE scopes with room from a rotating start, as admit.lua */
const SAMPLE = 2;
const MAX_NOTES = 10_000;

export function createMemoryLimiter(opts: { clock: () => number; windowMs?: number; breaker?: BreakerConfig; interactiveHoldMs?: number; discovery?: Omit<DiscoveryParams, 'windowMs'> }): Limiter {
  const { clock } = opts;
  const windowMs = opts.windowMs ?? 60_000;
  const holdMs = opts.interactiveHoldMs ?? 2_000;
  const params: DiscoveryParams = { ...DEFAULT_DISCOVERY_PARAMS, ...opts.discovery, windowMs };
  const cfg = opts.breaker ?? DEFAULT_BREAKER;
  const scopes = new Map<ScopeId, ScopeState>();
  const tenants = new Map<string, TenantState>();
  const modelBlocks = new Map<string, number>();
  const rotation = new Map<string, number>();
  const notes = new Map<string, Map<string, number>>();
  let globalBlock: number | undefined;
  // RPD pools: scope and day -> requests reserved in the ledger, not spent yet (expired ones are dropped as new ones come)
  const pools = new Map<string, { n: number; until: number }>();
  const poolKey = (scope: ScopeId, day: string): string => `${scope}\u0000${day}`;
  const livePool = (scope: ScopeId, day: string): { n: number; until: number } | undefined => {
    const p = pools.get(poolKey(scope, day));
    return p && p.until > clock() ? p : undefined;
  };
  const addToPool = (scope: ScopeId, rpd: { day: string; ttlMs: number }, n: number): void => {
    const now = clock();
    for (const [k, p] of pools) if (p.until <= now) pools.delete(k);
    const p = livePool(scope, rpd.day);
    pools.set(poolKey(scope, rpd.day), { n: (p?.n ?? 0) + n, until: now + Math.max(1, Math.ceil(rpd.ttlMs)) });
  };

  const stateOf = (scope: ScopeId): ScopeState => {
    let s = scopes.get(scope);
    if (!s) {
      s = { window: new Map(), blocks: {}, breaker: CLOSED, discovery: {} };
      scopes.set(scope, s);
    }
    return s;
  };
  const tenantOf = (id: string): TenantState => {
    let t = tenants.get(id);
    if (!t) {
      t = { window: new Map(), days: new Map(), months: new Map() };
      tenants.set(id, t);
    }
    return t;
  };
  const dayOf = (t: TenantState, dayId: string) => {
    let d = t.days.get(dayId);
    if (!d) {
      d = { req: 0, tok: 0, creq: 0, ctok: 0 };
      t.days.set(dayId, d);
    }
    return d;
  };
  const ends = (until: number | undefined, now: number): number => (until === undefined ? now : until === -1 ? NEVER : Math.max(until, now));
  const breakerFree = (b: BreakerState, now: number): number => (canPass(b, now, cfg) ? now : b.kind === 'open' ? b.untilMs : b.kind === 'half_open' ? b.probeAtMs + cfg.probeTimeoutMs : now);
  const trim = (w: Map<string, Reservation>, now: number): void => {
    for (const [id, r] of w) if (r.at <= now - windowMs) w.delete(id);
  };

  const evaluate = (scope: ScopeId, given: readonly number[], costs: number[], now: number, lane: string, discover: ScopeCandidate['discover'], rpdDay?: string): { free: number; util: number; why: WaitReason } => {
    const s = stateOf(scope);
    // a discovered limit is what discovery admits now; the limit given is its floor
    const limits = WINDOW_DIMENSIONS.map((d, i) => (discover?.[d] ? storedAdmittedLimit(s.discovery[d] ?? null, given[i] ?? 0, now, params) : (given[i] ?? 0)));
    let free = now;
    let why: WaitReason = 'window';
    const block = (at: number, reason: WaitReason): void => {
      if (free === NEVER) return;
      if (at === NEVER || at > free) [free, why] = [at, reason];
    };
    block(ends(globalBlock, now), 'global');
    block(ends(modelBlocks.get(parseScope(scope).model), now), 'model');
    block(ends(s.blocks.cool, now), 'cool');
    // the ledger's day is full, but while the day's pool holds requests the scope is not done
    const pooled = rpdDay !== undefined && s.dayReason === 'rpd_full' && (livePool(scope, rpdDay)?.n ?? 0) > 0;
    block(pooled ? now : ends(s.blocks.day, now), 'day');
    if (free !== NEVER) block(breakerFree(s.breaker, now), 'breaker');
    if (free !== NEVER && lane === 'batch') block(ends(s.blocks.iw, now), 'interactive');
    if (free === NEVER || free > now) return { free, util: 0, why };
    trim(s.window, now);
    const r = freeAfter(s.window, limits, costs, now, windowMs);
    return { free: r.free === null ? NEVER : r.free, util: r.util, why: 'window' };
  };

  const turn = (key: string): number => {
    const n = (rotation.get(key) ?? 0) + 1;
    rotation.set(key, n);
    return n;
  };

  /** The tenant's own limits before any candidate: refused, waiting, or fine (and whether central keys are out). */
  const gate = (t: TenantGate, costs: number[], now: number): Admission | { centralBlocked: boolean } => {
    const ts = tenantOf(t.tenantId);
    const day = dayOf(ts, t.dayId);
    if (t.rpd > 0 && day.req + 1 > t.rpd) return { admitted: false, refused: { limit: 'rpd', value: t.rpd }, earliestFreeMs: null, nowMs: now };
    if (t.tokensPerDay > 0 && day.tok + t.estTokens > t.tokensPerDay) return { admitted: false, refused: { limit: 'tokensPerDay', value: t.tokensPerDay }, earliestFreeMs: null, nowMs: now };
    if (t.budgetMicros !== null && (ts.months.get(t.monthId) ?? 0) >= t.budgetMicros) return { admitted: false, refused: { limit: 'budget', value: t.budgetMicros }, earliestFreeMs: null, nowMs: now };
    trim(ts.window, now);
    const limits = windowVector(t.window).map((l) => (l > 0 ? l : Number.MAX_SAFE_INTEGER));
    const r = freeAfter(ts.window, limits, costs, now, windowMs);
    if (r.free === null || r.free > now) return { admitted: false, earliestFreeMs: r.free, nowMs: now, why: 'tenant', centralSkipped: false };
    const centralBlocked = (t.centralRpd > 0 && day.creq + 1 > t.centralRpd) || (t.centralTokensPerDay > 0 && day.ctok + t.estTokens > t.centralTokensPerDay);
    return { centralBlocked };
  };

  return {
    async admit(reservationId, costValues, groups, admitOpts = {}): Promise<Admission> {
      const now = clock();
      const costs = windowVector(costValues);
      const lane = admitOpts.lane ?? 'interactive';
      const t = admitOpts.tenant;
      let centralBlocked = false;
      if (t) {
        const g = gate(t, costs, now);
        if ('admitted' in g) return g;
        centralBlocked = g.centralBlocked;
      }
      let earliest = NEVER;
      let earliestWhy: WaitReason = 'window';
      let centralSkipped = false;
      const seen = new Map<ScopeId, number>();
      for (const [gi, g] of groups.entries()) {
        if (g.central && centralBlocked) {
          centralSkipped = true;
          continue;
        }
        const n = g.candidates.length;
        const start = n > 1 ? turn(`${g.id}\u0000_`) % n : 0;
        let best: { util: number; c: number } | null = null;
        let found = 0;
        for (let j = 0; j < n; j++) {
          const c = (start + j) % n;
          const cand = g.candidates[c];
          if (!cand) continue;
          const e = evaluate(cand.scope, windowVector(cand.limits), costs, now, lane, cand.discover, admitOpts.rpd?.day);
          seen.set(cand.scope, e.free);
          if (e.free !== NEVER && e.free <= now) {
            found++;
            if (!best || e.util < best.util - 1e-9) best = { util: e.util, c };
            if (found >= SAMPLE || best.util <= 0) break;
          } else if (e.free !== NEVER && (earliest === NEVER || e.free < earliest)) [earliest, earliestWhy] = [e.free, e.why];
        }
        if (!best) continue;
        const scope = g.candidates[best.c]?.scope ?? '';
        const same = g.candidates.flatMap((c, i) => (c.scope === scope ? [i] : []));
        const pick = same.length > 1 ? (same[turn(`${g.id}\u0000${scope}`) % same.length] ?? best.c) : best.c;
        const s = stateOf(scope);
        const probe = s.breaker.kind !== 'closed' && canPass(s.breaker, now, cfg);
        s.breaker = breakerStep(s.breaker, 'pass', now, cfg);
        s.window.set(reservationId, { at: now, costs });
        if (t) {
          const ts = tenantOf(t.tenantId);
          ts.window.set(reservationId, { at: now, costs });
          const day = dayOf(ts, t.dayId);
          day.req++;
          day.tok += t.estTokens;
          if (g.central) {
            day.creq++;
            day.ctok += t.estTokens;
          }
        }
        let rpd = false;
        if (admitOpts.rpd) {
          const p = livePool(scope, admitOpts.rpd.day);
          if (p && p.n > 0) {
            p.n--;
            rpd = true;
          }
        }
        return { admitted: true, group: gi, candidate: pick, nowMs: now, probe, rpd };
      }
      if (lane === 'interactive' && earliest !== NEVER) {
        for (const [scope, free] of seen) {
          const s = stateOf(scope);
          if (free !== NEVER && earliest + holdMs > (s.blocks.iw ?? 0)) s.blocks.iw = earliest + holdMs;
        }
      }
      return { admitted: false, earliestFreeMs: earliest === NEVER ? null : earliest, nowMs: now, why: earliestWhy, centralSkipped };
    },
    async settle(scope, reservationId, costValues, report: BreakerReport, tenant, disc) {
      const now = clock();
      const s = stateOf(scope);
      let breakerOpened = false;
      if (report !== 'none') {
        const before = s.breaker;
        s.breaker = breakerStep(before, report, now, cfg);
        breakerOpened = s.breaker.kind === 'open' && (before.kind !== 'open' || before.untilMs !== s.breaker.untilMs);
      }
      const restamp = (w: Map<string, Reservation>): void => {
        if (!w.has(reservationId)) return;
        w.delete(reservationId);
        w.set(reservationId, { at: now, costs: windowVector(costValues) });
      };
      restamp(s.window);
      if (disc && (disc.event === 'success' || disc.event === 'quota429')) {
        const live = [...s.window.values()].filter((r) => r.at > now - windowMs);
        WINDOW_DIMENSIONS.forEach((d, i) => {
          if (!disc.discover[d] || (disc.event === 'quota429' && disc.dimension !== d)) return;
          const used = live.reduce((n, r) => n + (r.costs[i] ?? 0), 0);
          const amount = windowVector(costValues)[i] ?? 0;
          const event: DiscoveryEvent = disc.event === 'success' ? { kind: 'success', used, amount } : { kind: 'quota429', quotaValue: disc.quotaValue ?? null, used, amount };
          const next = storedDiscoveryStep(s.discovery[d] ?? null, disc.floors[d], event, now, params);
          if (next) s.discovery[d] = next;
        });
      }
      let monthCostMicros = 0;
      if (tenant) {
        const ts = tenantOf(tenant.tenantId);
        restamp(ts.window);
        const day = dayOf(ts, tenant.dayId);
        day.tok += tenant.tokenDelta;
        if (tenant.central) day.ctok += tenant.tokenDelta;
        monthCostMicros = (ts.months.get(tenant.monthId) ?? 0) + tenant.costMicros;
        ts.months.set(tenant.monthId, monthCostMicros);
      }
      return { breakerOpened, monthCostMicros };
    },
    async release(scope, reservationId, tenant, rpd) {
      stateOf(scope).window.delete(reservationId);
      if (rpd) addToPool(scope, rpd, 1);
      if (!tenant) return;
      const ts = tenantOf(tenant.tenantId);
      if (!ts.window.delete(reservationId)) return;
      const day = dayOf(ts, tenant.dayId);
      day.req--;
      day.tok -= tenant.estTokens;
      if (tenant.central) {
        day.creq--;
        day.ctok -= tenant.estTokens;
      }
    },
    async fillPool(scope, rpd, granted) {
      if (granted > 0) {
        addToPool(scope, rpd, Math.floor(granted) - 1);
        return true;
      }
      const p = livePool(scope, rpd.day);
      if (!p || p.n <= 0) return false;
      p.n--;
      return true;
    },
    async pooled(scope, day) {
      return Math.max(0, livePool(scope, day)?.n ?? 0);
    },
    async discovered(scope) {
      const now = clock();
      const out: Partial<Record<WindowDimension, DiscoveredLimit>> = {};
      for (const d of WINDOW_DIMENSIONS) {
        const st = stateOf(scope).discovery[d];
        if (st) out[d] = { limit: admittedLimit(st, now, params), phase: st.phase };
      }
      return out;
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
    async block(scope, kind, ttlMs, reason) {
      const s = stateOf(scope);
      const until = ttlMs <= 0 ? -1 : clock() + Math.ceil(ttlMs);
      const cur = s.blocks[kind];
      if (cur === -1) return false;
      if (until !== -1 && cur !== undefined && cur >= until) {
        // any other day exclusion replaces 'rpd_full', which would yield to the pool
        if (kind !== 'day' || reason === 'rpd_full' || s.dayReason !== 'rpd_full') return false;
        s.dayReason = reason;
        return true;
      }
      s.blocks[kind] = until;
      if (kind === 'day') s.dayReason = reason;
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
