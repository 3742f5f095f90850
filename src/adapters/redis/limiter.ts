import type { RedisClient as Redis } from './connection.js';
import type { Admission, AdmitOptions, AnsweredJob, BlockKind, BreakerView, CandidateGroupRef, DiscoveredLimit, DiscoveryReport, Limiter, RefusedLimit, ScopeCandidate, WaitReason } from '../../app/ports.js';
import { admittedLimit, DEFAULT_DISCOVERY_PARAMS, type DiscoveryParams } from '../../core/discovery.js';
import { DISCOVERY_FIELD_KEYS, discoveryFieldNames, discoveryParamArgs, parseDiscoveryFields } from './discovery-fields.js';
import { DEFAULT_BREAKER, type BreakerConfig } from '../../core/breaker.js';
import { DIMENSION_SPECS, WINDOW_DIMENSIONS, windowRecord, windowVector, type WindowDimension, type WindowValues } from '../../core/dimensions.js';
import { parseScope, type ScopeId } from '../../core/scope.js';
import { viaRedis } from './errors.js';
import { redisKeys, type RedisKeys } from './keys.js';
import { defineScripts } from './scripts.js';

export const WINDOW_MS = 60_000;

type Reply = Array<number | string>;
type Scripted = Redis & {
  qfAdmit(numKeys: number, ...args: Array<string | number>): Promise<Reply>;
  qfSettle(numKeys: number, ...args: Array<string | number>): Promise<[number, number, number]>;
  qfBlock(key: string, field: string, ttl: number, reason: string): Promise<number>;
  qfNote(key: string, member: string, windowMs: number): Promise<number>;
  qfRpdFill(pool: string, granted: number, ttlMs: number): Promise<number>;
};

export interface RedisLimiterOptions {
  windowMs?: number;
  breaker?: BreakerConfig;
  /** how discovered limits move (its windowMs is the limiter's window) */
  discovery?: Omit<DiscoveryParams, 'windowMs'>;
  /** how long a waiting interactive job keeps batch work off the scopes it waits for, past its wake-up */
  interactiveHoldMs?: number;
}

const WAIT_REASONS: readonly WaitReason[] = ['window', 'cool', 'day', 'breaker', 'model', 'global', 'interactive', 'tenant'];
const REFUSED: readonly RefusedLimit[] = ['rpd', 'tokensPerDay', 'centralRpd', 'centralTokensPerDay', 'budget'];

const UNIT_FLAGS = WINDOW_DIMENSIONS.map((d) => (DIMENSION_SPECS[d].measure === 'requests' ? '1' : '0'));

/**
 * The admission call's KEYS and ARGV (see commands/admit.lua): each model and
 * scope once, whatever the number of candidates sharing it.
 */
export function admitArguments(
  keys: RedisKeys,
  reservationId: string,
  costs: WindowValues,
  groups: readonly CandidateGroupRef[],
  windowMs: number,
  probeTimeoutMs: number,
  opts: AdmitOptions & { holdMs: number; quietMs: number } = { holdMs: 2_000, quietMs: DEFAULT_DISCOVERY_PARAMS.quietMs },
): { keys: string[]; args: Array<string | number> } {
  const models = new Map<string, number>();
  const scopes = new Map<ScopeId, { index: number; model: number; limits: WindowValues; discover: ScopeCandidate['discover'] }>();
  for (const g of groups) {
    for (const c of g.candidates) {
      if (scopes.has(c.scope)) continue;
      const { model } = parseScope(c.scope);
      if (!models.has(model)) models.set(model, models.size + 1);
      scopes.set(c.scope, { index: scopes.size + 1, model: models.get(model) ?? 0, limits: c.limits, discover: c.discover });
    }
  }
  const keyList = [keys.global, ...[...models.keys()].map((m) => keys.model(m))];
  const args: Array<string | number> = [reservationId, windowMs, probeTimeoutMs, WINDOW_DIMENSIONS.length, ...windowVector(costs), ...UNIT_FLAGS, models.size, scopes.size];
  for (const [scope, s] of scopes) {
    const k = keys.scope(scope);
    keyList.push(k.window, k.costs, k.state);
    args.push(scope, s.model, ...windowVector(s.limits), ...WINDOW_DIMENSIONS.map((d) => (s.discover?.[d] ? '1' : '0')));
  }
  args.push(groups.length);
  for (const g of groups) {
    keyList.push(keys.rotation(g.id));
    args.push(g.central ? '1' : '0', g.candidates.length, ...g.candidates.map((c) => scopes.get(c.scope)?.index ?? 0));
  }
  args.push(opts.lane ?? 'interactive', opts.holdMs, opts.quietMs, ...WINDOW_DIMENSIONS);
  const rpd = opts.rpd;
  if (rpd) {
    for (const scope of scopes.keys()) keyList.push(keys.scope(scope).rpdPool(rpd.day));
  }
  args.push(rpd ? Math.max(1, Math.ceil(rpd.ttlMs)) : 0);
  if (opts.started) keyList.push(keys.tenant(opts.started.tenantId).outstanding);
  args.push(opts.started?.jobId ?? '');
  const t = opts.tenant;
  if (!t) {
    args.push('0');
    return { keys: keyList, args };
  }
  const tk = keys.tenant(t.tenantId);
  keyList.push(tk.window, tk.costs, tk.day(t.dayId), tk.month(t.monthId), tk.outstanding);
  args.push('1', ...windowVector(t.window), t.rpd, t.tokensPerDay, t.centralRpd, t.centralTokensPerDay, t.budgetMicros ?? -1, t.estTokens, t.jobId ?? '');
  return { keys: keyList, args };
}

/** The settle call's KEYS: the scope's three, then the tenant's window, costs, day and month, then the RPD pool a release returns to, or the outstanding hash of the job a call answered. */
function settleArguments(keys: RedisKeys, scope: ScopeId, tenant?: { tenantId: string; dayId: string; monthId: string }, rpdDay?: string, answered?: AnsweredJob): string[] {
  const k = keys.scope(scope);
  const t = tenant ? keys.tenant(tenant.tenantId) : undefined;
  const out = [k.window, k.costs, k.state];
  if (tenant && t) out.push(t.window, t.costs, t.day(tenant.dayId), t.month(tenant.monthId));
  if (rpdDay !== undefined) out.push(k.rpdPool(rpdDay));
  else if (answered) out.push(keys.tenant(answered.tenantId).outstanding);
  return out;
}

const msLeft = (untilValue: string | null | undefined, now: number): number | null => {
  if (untilValue === null || untilValue === undefined) return null;
  const u = Number(untilValue);
  if (u === -1) return Infinity;
  return u > now ? u - now : null;
};

/** The Limiter port on Redis: every state change is one script from ./commands. */
export function createRedisLimiter(redis: Redis, prefixOrKeys: string | RedisKeys, opts: RedisLimiterOptions = {}): Limiter {
  defineScripts(redis);
  const r = redis as Scripted;
  const keys = typeof prefixOrKeys === 'string' ? redisKeys(prefixOrKeys) : prefixOrKeys;
  const windowMs = opts.windowMs ?? WINDOW_MS;
  const discovery: DiscoveryParams = { ...DEFAULT_DISCOVERY_PARAMS, ...opts.discovery, windowMs };
  /** settle's discovery section: the event, the quota 429's dimension and value, each dimension's name, flag and floor, the params */
  const discoveryArgs = (d: DiscoveryReport | undefined): Array<string | number> => [
    d?.event ?? 'none',
    d?.dimension ? WINDOW_DIMENSIONS.indexOf(d.dimension) + 1 : 0,
    d?.quotaValue ?? '',
    ...WINDOW_DIMENSIONS.flatMap((dim) => [dim, d?.discover[dim] ? '1' : '0', d?.floors[dim] ?? 0]),
    ...discoveryParamArgs(discovery),
  ];
  const holdMs = opts.interactiveHoldMs ?? 2_000;
  const breaker = opts.breaker ?? DEFAULT_BREAKER;
  const redisNow = async (): Promise<number> => {
    const [s, us] = await redis.time();
    return Number(s) * 1000 + Math.floor(Number(us) / 1000);
  };
  const block = (key: string, field: string, ttlMs: number, reason: string): Promise<boolean> =>
    viaRedis('block', async () => (await r.qfBlock(key, field, Math.ceil(ttlMs), reason)) === 1);

  return {
    admit: (reservationId, costs, groups, admitOpts = {}) =>
      viaRedis('admission', async (): Promise<Admission> => {
        const call = admitArguments(keys, reservationId, costs, groups, windowMs, breaker.probeTimeoutMs, { ...admitOpts, holdMs, quietMs: discovery.quietMs });
        const res = await r.qfAdmit(call.keys.length, ...call.keys, ...call.args);
        const n = (i: number): number => Number(res[i] ?? 0);
        if (n(0) === 1) return { admitted: true, group: n(1) - 1, candidate: n(2) - 1, nowMs: n(3), probe: n(4) === 1, rpd: n(5) === 1 };
        if (n(0) === 2) {
          const limit = REFUSED.find((x) => x === res[1]) ?? 'budget';
          return { admitted: false, refused: { limit, value: n(2) }, earliestFreeMs: null, nowMs: n(3) };
        }
        const why = WAIT_REASONS.find((x) => x === res[3]) ?? 'window';
        return { admitted: false, earliestFreeMs: n(1) < 0 ? null : n(1), nowMs: n(2), why, centralSkipped: n(4) === 1 };
      }),
    settle: (scope, reservationId, costs, report, tenant, disc, answered) =>
      viaRedis('settle', async () => {
        const vec = windowVector(costs);
        const call = settleArguments(keys, scope, tenant ? { tenantId: tenant.tenantId, dayId: tenant.dayId, monthId: tenant.monthId } : undefined, undefined, answered);
        const [, opened, month] = await r.qfSettle(call.length, ...call, reservationId, 'settle', windowMs, vec.length, ...vec, report, breaker.failureThreshold, breaker.openMs, tenant ? '1' : '0', tenant?.central ? '1' : '0', tenant?.tokenDelta ?? 0, tenant?.costMicros ?? 0, ...discoveryArgs(disc), answered?.jobId ?? '', 0);
        return { breakerOpened: opened === 1, monthCostMicros: Number(month ?? 0) };
      }),
    release: (scope, reservationId, tenant, rpd) =>
      viaRedis('release', async () => {
        const zero = WINDOW_DIMENSIONS.map(() => 0);
        const call = settleArguments(keys, scope, tenant, rpd?.day);
        const poolTtl = rpd ? Math.max(1, Math.ceil(rpd.ttlMs)) : 0;
        await r.qfSettle(call.length, ...call, reservationId, 'release', windowMs, zero.length, ...zero, 'none', breaker.failureThreshold, breaker.openMs, tenant ? '1' : '0', tenant?.central ? '1' : '0', tenant ? -tenant.estTokens : 0, 0, ...discoveryArgs(undefined), '', poolTtl);
      }),
    fillPool: (scope, pool, granted) =>
      viaRedis('RPD pool fill', async () => (await r.qfRpdFill(keys.scope(scope).rpdPool(pool.day), Math.max(0, Math.floor(granted)), Math.max(1, Math.ceil(pool.ttlMs)))) === 1),
    pooled: (scope, day) => viaRedis('RPD pool read', async () => Math.max(0, Number((await redis.get(keys.scope(scope).rpdPool(day))) ?? 0))),
    discovered: (scope) =>
      viaRedis('discovery read', async () => {
        const out: Partial<Record<WindowDimension, DiscoveredLimit>> = {};
        const [values, now] = await Promise.all([redis.hmget(keys.scope(scope).state, ...WINDOW_DIMENSIONS.flatMap((d) => discoveryFieldNames(d))), redisNow()]);
        WINDOW_DIMENSIONS.forEach((d, i) => {
          const state = parseDiscoveryFields(d, values.slice(i * DISCOVERY_FIELD_KEYS.length, (i + 1) * DISCOVERY_FIELD_KEYS.length));
          if (state) out[d] = { limit: admittedLimit(state, now, discovery), phase: state.phase };
        });
        return out;
      }),
    breaker: (scope) =>
      viaRedis('breaker read', async (): Promise<BreakerView> => {
        const [[b, bu, bf], now] = await Promise.all([redis.hmget(keys.scope(scope).state, 'b', 'bu', 'bf'), redisNow()]);
        if (b === 'o') return { state: Number(bu) <= now ? 'half_open' : 'open', fails: 0, openMs: Math.max(0, Number(bu) - now) };
        if (b === 'h') return { state: 'half_open', fails: 0, openMs: null };
        return { state: 'closed', fails: Number(bf ?? 0), openMs: null };
      }),
    note: (topic, member, noteWindowMs) => viaRedis('note', () => r.qfNote(keys.note(topic), member, noteWindowMs)),
    block: (scope, kind: BlockKind, ttlMs, reason) => block(keys.scope(scope).state, kind, ttlMs, reason),
    clearBlock: (scope, kind) =>
      viaRedis('clear block', async () => {
        await redis.hdel(keys.scope(scope).state, kind, `${kind}_r`);
      }),
    blockModel: (model, ttlMs, reason) => block(keys.model(model), 'open', ttlMs, reason),
    blockGlobal: (ttlMs, reason) => block(keys.global, 'open', ttlMs, reason),
    usage: (scope) =>
      viaRedis('usage read', async () => {
        // exactly the live window: entries not yet trimmed by an admission are left out
        const k = keys.scope(scope);
        const cutoff = (await redisNow()) - windowMs;
        const live = await redis.zrangebyscore(k.window, `(${cutoff}`, '+inf');
        if (!live.length) return windowRecord([]);
        const totals = WINDOW_DIMENSIONS.map(() => 0);
        for (const v of await redis.hmget(k.costs, ...live)) {
          (v ?? '').split(',').forEach((c, i) => (totals[i] = (totals[i] ?? 0) + Number(c || 0)));
        }
        return windowRecord(totals);
      }),
    blocks: (scope) =>
      viaRedis('block read', async () => {
        const [[cool, day], now] = await Promise.all([redis.hmget(keys.scope(scope).state, 'cool', 'day'), redisNow()]);
        return { coolMs: msLeft(cool, now), dayMs: msLeft(day, now) };
      }),
    modelBlock: (model) =>
      viaRedis('model block read', async () => {
        const [open, now] = await Promise.all([redis.hget(keys.model(model), 'open'), redisNow()]);
        return msLeft(open, now);
      }),
  };
}
