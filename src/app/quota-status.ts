import type { Limiter } from '../adapters/redis/limiter.js';
import { scopeOf, type FleetIndex } from '../core/fleet-index.js';
import type { LimitSource } from '../core/types.js';

export interface ScopeStatus {
  projectId: string;
  model: string;
  rpm: { used: number; limit: number; source: LimitSource };
  tpm: { used: number; limit: number; source: LimitSource };
  rpd: { used: number; limit: number; source: LimitSource };
  /** ms left on a cooldown / day exclusion; null when none; -1 = until cleared */
  cooldownMs: number | null;
  excludedMs: number | null;
  unsupported: boolean;
}

/** Per (project, model) in use by any key: window usage from Redis, day usage from the ledger. */
export async function quotaStatus(
  fleet: FleetIndex,
  limiter: Limiter,
  rpdUsed: ReadonlyMap<string, number>,
): Promise<ScopeStatus[]> {
  const pairs = new Map<string, { projectId: string; model: string }>();
  for (const key of fleet.fleet.keys) {
    for (const model of fleet.fleet.models) pairs.set(scopeOf(key.projectId, model), { projectId: key.projectId, model });
  }
  const finite = (ms: number | null): number | null => (ms === null ? null : Number.isFinite(ms) ? ms : -1);
  return Promise.all(
    [...pairs].map(async ([scope, { projectId, model }]) => {
      const l = fleet.limits(projectId, model);
      const [u, b] = await Promise.all([limiter.usage(scope), limiter.blocks(scope)]);
      return {
        projectId,
        model,
        rpm: { used: u.requests, limit: l.rpm, source: l.sources.rpm },
        tpm: { used: u.tokens, limit: l.tpm, source: l.sources.tpm },
        rpd: { used: rpdUsed.get(scope) ?? 0, limit: l.rpd, source: l.sources.rpd },
        cooldownMs: finite(b.coolMs),
        excludedMs: finite(b.dayMs),
        unsupported: fleet.isUnsupported(projectId, model),
      };
    }),
  );
}
