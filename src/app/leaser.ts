import type { CandidateGroupRef, Limiter } from '../adapters/redis/limiter.js';
import type { Candidate, CandidateGroup } from '../core/lease-plan.js';
import type { DayClock } from '../core/pacific-day.js';
import type { Ledger } from './ports.js';

export interface Lease {
  candidate: Candidate;
  reservationId: string;
  tokens: number;
  day: string;
}

export type LeaseResult =
  | { kind: 'lease'; lease: Lease }
  /** nothing can serve now; earliestFreeMs null = nothing frees by itself */
  | { kind: 'wait'; earliestFreeMs: number | null; nowMs: number };

export interface Leaser {
  acquire(groups: readonly CandidateGroup[], tokens: number, reservationId: string): Promise<LeaseResult>;
  /** Undoes a lease whose call was never made (RPM, TPM and RPD all returned). */
  cancel(lease: Lease): Promise<void>;
  /** After the call: records the real input tokens (pass the reserved count when unknown). */
  settle(lease: Lease, promptTokens: number, succeeded: boolean): Promise<void>;
}

/**
 * A lease is RPM 1 + TPM n (one Redis script) and then RPD 1 (one
 * conditional Postgres statement). When the day is full, the Redis
 * reservation is returned, the scope is blocked until the next day starts
 * so no worker asks again, and the walk goes on from the next candidate.
 */
function toScopes(g: CandidateGroup): CandidateGroupRef {
  return { id: g.id, candidates: g.candidates.map((c) => ({ scope: c.scope, rpm: c.limits.rpm, tpm: c.limits.tpm })) };
}

export function createLeaser(deps: { limiter: Limiter; ledger: Ledger; day: DayClock }): Leaser {
  const { limiter, ledger, day } = deps;
  return {
    async acquire(groups, tokens, reservationId) {
      let remaining = groups.filter((g) => g.candidates.length > 0);
      for (;;) {
        const adm = await limiter.admit(reservationId, tokens, remaining.map(toScopes));
        if (!adm.admitted) return { kind: 'wait', earliestFreeMs: adm.earliestFreeMs, nowMs: adm.nowMs };
        const candidate = remaining[adm.group]?.candidates[adm.candidate];
        if (!candidate) throw new Error(`limiter admitted unknown candidate ${adm.group}/${adm.candidate}`);
        const dayId = day.dayId(adm.nowMs);
        const used = await ledger
          .reserve({ projectId: candidate.projectId, model: candidate.model, day: dayId, limit: candidate.limits.rpd })
          .catch(async (err: unknown) => {
            await limiter.release(candidate.scope, reservationId);
            throw err;
          });
        if (used !== null) return { kind: 'lease', lease: { candidate, reservationId, tokens, day: dayId } };
        await limiter.release(candidate.scope, reservationId);
        await limiter.block(candidate.scope, 'day', day.nextDayStartMs(adm.nowMs) - adm.nowMs, 'rpd_full');
        remaining = remaining
          .map((g) => ({ ...g, candidates: g.candidates.filter((c) => c.scope !== candidate.scope) }))
          .filter((g) => g.candidates.length > 0);
      }
    },
    async cancel(lease) {
      await limiter.release(lease.candidate.scope, lease.reservationId);
      await ledger.refund({ projectId: lease.candidate.projectId, model: lease.candidate.model, day: lease.day });
    },
    async settle(lease, promptTokens, succeeded) {
      await limiter.settle(lease.candidate.scope, lease.reservationId, promptTokens, succeeded);
    },
  };
}
