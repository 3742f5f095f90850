import type { BreakerReport } from '../core/breaker.js';
import { windowCosts, windowLimits, type WindowValues } from '../core/dimensions.js';
import type { Candidate, CandidateGroup } from '../core/lease-plan.js';
import { monthOfDay, type DayClock } from '../core/pacific-day.js';
import { discoveredDimensions } from '../core/discovery.js';
import type { AdmitOptions, AnsweredJob, CandidateGroupRef, DiscoveryReport, Ledger, Limiter, RefusedLimit, RpdPoolRef, TenantGate, WaitReason } from './ports.js';

export interface Lease {
  candidate: Candidate;
  reservationId: string;
  tokens: number;
  day: string;
  /** the tenant the lease was counted against, when its limits apply */
  tenant?: { tenantId: string; dayId: string; monthId: string };
}

export type LeaseResult =
  | { kind: 'lease'; lease: Lease }
  /** nothing can serve now; earliestFreeMs null = nothing frees by itself */
  | { kind: 'wait'; earliestFreeMs: number | null; nowMs: number; why: WaitReason; centralSkipped: boolean }
  /** the tenant is over a daily limit or its budget */
  | { kind: 'refused'; limit: RefusedLimit; value: number };

export interface LeaseOptions {
  lane?: AdmitOptions['lane'];
  /** the tenant's limits, without the day and month (the leaser's clock names them) */
  tenant?: Omit<TenantGate, 'dayId' | 'monthId' | 'estTokens'>;
  /** a worker's first pass over the job: marked started in the first admission call (no round trip of its own) */
  started?: AdmitOptions['started'];
}

/** What a finished call spent, for the tenant's day and month. */
export interface CallSpend {
  /** all tokens the call used (0 when it failed) */
  totalTokens: number;
  /** its cost in picodollars */
  costPico: bigint;
}

export interface Leaser {
  acquire(groups: readonly CandidateGroup[], tokens: number, reservationId: string, opts?: LeaseOptions): Promise<LeaseResult>;
  /** Undoes a lease whose call was never made (RPM and TPM returned, the day's request back to its pool). */
  cancel(lease: Lease): Promise<void>;
  /**
   * After the call: records the real input tokens (pass the reserved count
   * when unknown), reports the call to the scope's breaker and corrects the
   * tenant's counters; answers the tenant's month spend (micro-USD) after it.
   */
  settle(lease: Lease, promptTokens: number, report: BreakerReport, spend?: CallSpend, discovery?: Omit<DiscoveryReport, 'discover' | 'floors'>, answered?: AnsweredJob): Promise<{ breakerOpened: boolean; monthCostMicros: number }>;
}

/** Picodollars to micro-USD, rounded up: the budget counter never under-counts. */
export const picoToMicros = (pico: bigint): number => Number((pico + 999_999n) / 1_000_000n);

/**
 * Candidates sent in the first admission call of a lease, in each later one,
 * and the size of the chunks a large tier is cut into. The first call is
 * small so that a lease costs the same whatever the size of the tier (the
 * admission script evaluates at most a sample of candidates anyway), and it
 * carries the first group alone: the group that serves nearly every lease,
 * without the fallbacks' keys and arguments. The later ones, needed only when
 * the first is full, are larger.
 */
export const FIRST_BATCH = 32;
export const ADMIT_BATCH = 128;
export const TIER_CHUNK = 32;

interface Part {
  ref: CandidateGroupRef;
  candidates: readonly Candidate[];
}

// groups of a memoized plan are the same objects lease after lease: their parts are built once
const partsOf = new WeakMap<CandidateGroup, Part[]>();

/** A group cut into chunks of TIER_CHUNK candidates (one part when it is small), built once per group. */
function chunksOf(g: CandidateGroup): Part[] {
  let parts = partsOf.get(g);
  if (parts) return parts;
  parts = [];
  for (let i = 0; i < Math.max(1, g.candidates.length); i += TIER_CHUNK) {
    const cands = g.candidates.slice(i, i + TIER_CHUNK);
    parts.push({
      ref: { id: g.id, central: g.central, candidates: cands.map((c) => ({ scope: c.scope, limits: windowLimits(c.limits), discover: discoveredDimensions(c.limits) })) },
      candidates: cands,
    });
  }
  partsOf.set(g, parts);
  return parts;
}

/**
 * A group as the parts sent to the limiter, in order. A tier larger than
 * TIER_CHUNK starts at a random chunk and goes round, so each call carries
 * few arguments and the least utilised of a rotating sample is chosen; the
 * limiter still never skips a scope with room, because every chunk is tried
 * before the next group.
 */
function partsFor(g: CandidateGroup, random: () => number): Part[] {
  const chunks = chunksOf(g);
  if (chunks.length === 1) return chunks;
  const offset = Math.floor(random() * chunks.length);
  return [...chunks.slice(offset), ...chunks.slice(0, offset)];
}

/** Parts packed into admission calls (the first of about FIRST_BATCH candidates, then ADMIT_BATCH), keeping their order. */
function batches(groups: readonly CandidateGroup[], random: () => number): Part[][] {
  const out: Part[][] = [];
  let cur: Part[] = [];
  let size = 0;
  const first = groups[0];
  for (const part of groups.flatMap((g) => partsFor(g, random))) {
    const cap = out.length === 0 ? FIRST_BATCH : ADMIT_BATCH;
    const pastFirstGroup = out.length === 0 && first !== undefined && part.ref.id !== first.id;
    if (size > 0 && (size + part.candidates.length > cap || pastFirstGroup)) {
      out.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(part);
    size += part.candidates.length;
  }
  if (cur.length) out.push(cur);
  return out;
}

/** How long a day's RPD pool outlives its day (it only frees memory: pools are named by their day). */
const POOL_GRACE_MS = 60_000;

/**
 * A lease is RPM 1 + TPM n and RPD 1, in one Redis script per batch of
 * candidates (one call in the common case): the day's request comes from
 * the scope's RPD pool, requests the durable ledger (Postgres) reserved in
 * blocks. Only when the pool is empty does the lease reserve a block (one
 * conditional statement, core/rpd-block.ts) and put the rest in the pool.
 * When the ledger's day is full and the pool holds nothing, the Redis
 * reservation is returned, the scope is blocked until the next day starts
 * so no worker asks again, and the walk goes on from the next candidate.
 *
 * Failure modes: a pool Redis loses (restart without persistence, flush)
 * strands its requests — they stay reserved in the ledger, so the day can
 * only end below its limit, never above; a new day starts a new pool. While
 * Postgres is down, leases keep being served as long as the pool holds
 * requests.
 */
export function createLeaser(deps: { limiter: Limiter; ledger: Ledger; day: DayClock; random?: () => number }): Leaser {
  const { limiter, ledger, day } = deps;
  const random = deps.random ?? Math.random;

  type Admitted = { candidate: Candidate; nowMs: number; rpd: boolean };
  /** The first candidate with room, walking the batches in order; else when the earliest frees, or why the tenant may not. */
  const admit = async (groups: readonly CandidateGroup[], costs: WindowValues, reservationId: string, opts: AdmitOptions): Promise<Admitted | Exclude<LeaseResult, { kind: 'lease' }>> => {
    let wait: Extract<LeaseResult, { kind: 'wait' }> = { kind: 'wait', earliestFreeMs: null, nowMs: Date.now(), why: 'window', centralSkipped: false };
    for (const batch of batches(groups, random)) {
      const adm = await limiter.admit(reservationId, costs, batch.map((p) => p.ref), opts);
      // the job is marked started once, by the first call
      if (opts.started) opts = { ...opts, started: undefined };
      if (adm.admitted) {
        const candidate = batch[adm.group]?.candidates[adm.candidate];
        if (!candidate) throw new Error(`the limiter admitted an unknown candidate ${adm.group}/${adm.candidate}`);
        return { candidate, nowMs: adm.nowMs, rpd: adm.rpd };
      }
      if (adm.refused) return { kind: 'refused', ...adm.refused };
      const earlier = adm.earliestFreeMs !== null && (wait.earliestFreeMs === null || adm.earliestFreeMs < wait.earliestFreeMs);
      wait = { kind: 'wait', earliestFreeMs: earlier ? adm.earliestFreeMs : wait.earliestFreeMs, nowMs: adm.nowMs, why: earlier ? adm.why : wait.why, centralSkipped: wait.centralSkipped || adm.centralSkipped };
      // the tenant's own window is full: no other batch can do better
      if (adm.why === 'tenant') return wait;
    }
    return wait;
  };

  return {
    async acquire(groups, tokens, reservationId, opts = {}) {
      let remaining = groups.filter((g) => g.candidates.length > 0);
      const costs = windowCosts(tokens);
      const startMs = Date.now();
      const gateDay = day.dayId(startMs);
      const tenant = opts.tenant ? { ...opts.tenant, dayId: gateDay, monthId: monthOfDay(gateDay), estTokens: tokens } : undefined;
      // the lease's day is the day of the pool it spends from: the one it started in
      const rpd: RpdPoolRef = { day: gateDay, ttlMs: day.nextDayStartMs(startMs) - startMs + POOL_GRACE_MS };
      let admitOpts: AdmitOptions = { ...(opts.lane ? { lane: opts.lane } : {}), ...(tenant ? { tenant } : {}), rpd, ...(opts.started ? { started: opts.started } : {}) };
      for (;;) {
        const adm = await admit(remaining, costs, reservationId, admitOpts);
        if (admitOpts.started) admitOpts = { ...admitOpts, started: undefined };
        if (!('candidate' in adm)) return adm;
        const { candidate } = adm;
        const counted = tenant ? { tenantId: tenant.tenantId, dayId: tenant.dayId, monthId: tenant.monthId } : undefined;
        const lease = (): LeaseResult => ({ kind: 'lease', lease: { candidate, reservationId, tokens, day: rpd.day, ...(counted ? { tenant: counted } : {}) } });
        if (adm.rpd) return lease();
        const giveBack = (): Promise<void> => limiter.release(candidate.scope, reservationId, counted ? { ...counted, central: candidate.central, estTokens: tokens } : undefined);
        const block = await ledger.reserveBlock({ projectId: candidate.projectId, model: candidate.model, day: rpd.day, limit: candidate.limits.rpd }).catch(async (err: unknown) => {
          await giveBack();
          throw err;
        });
        // a block of one is this lease's alone: nothing to pool
        const has = block.granted === 1 || (await limiter.fillPool(candidate.scope, rpd, block.granted).catch(async (err: unknown) => {
          await giveBack();
          throw err;
        }));
        if (has) return lease();
        await giveBack();
        await limiter.block(candidate.scope, 'day', day.nextDayStartMs(adm.nowMs) - adm.nowMs, 'rpd_full');
        remaining = remaining
          .map((g) => ({ ...g, candidates: g.candidates.filter((c) => c.scope !== candidate.scope) }))
          .filter((g) => g.candidates.length > 0);
      }
    },
    async cancel(lease) {
      // the request goes back to its day's pool; a day already over has no use for it
      const now = Date.now();
      const rpd = day.dayId(now) === lease.day ? { day: lease.day, ttlMs: day.nextDayStartMs(now) - now + POOL_GRACE_MS } : undefined;
      await limiter.release(lease.candidate.scope, lease.reservationId, lease.tenant ? { ...lease.tenant, central: lease.candidate.central, estTokens: lease.tokens } : undefined, rpd);
    },
    settle: (lease, promptTokens, report, spend, discovery, answered) =>
      limiter.settle(
        lease.candidate.scope,
        lease.reservationId,
        windowCosts(promptTokens),
        report,
        lease.tenant ? { ...lease.tenant, central: lease.candidate.central, tokenDelta: (spend?.totalTokens ?? 0) - lease.tokens, costMicros: picoToMicros(spend?.costPico ?? 0n) } : undefined,
        discovery ? { ...discovery, discover: discoveredDimensions(lease.candidate.limits), floors: windowLimits(lease.candidate.limits) } : undefined,
        answered,
      ),
  };
}
