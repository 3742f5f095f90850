import { DIMENSIONS, type Dimension, type LimitSource } from '../core/types.js';
import { isWindowDimension } from '../core/dimensions.js';
import type { FleetIndex } from '../core/fleet-index.js';
import type { DayClock } from '../core/pacific-day.js';
import { scopeOf, type ScopeId } from '../core/scope.js';
import type { BreakerView, Ledger, Limiter } from './ports.js';

export interface DimensionUse {
  /** for rpd: requests spent today (taken by leases) */
  used: number;
  limit: number;
  source: LimitSource;
  /**
   * rpd only: requests the ledger has reserved today — those spent plus
   * those still held in the scope's pool (or stranded by a lost pool)
   */
  reserved?: number;
}

/** One (project, model) as operators see it; `rpm`, `tpm`, `rpd`… are one field per limit dimension. */
export type ScopeStatus = {
  projectId: string;
  model: string;
  /** ms left on a cooldown / day exclusion; null when none; -1 = until cleared */
  cooldownMs: number | null;
  excludedMs: number | null;
  unsupported: boolean;
  breaker: BreakerView;
} & Record<Dimension, DimensionUse>;

export interface QuotaSnapshot {
  at: number;
  /** the quota day (Pacific date, or a simulated day id) */
  day: string;
  fleet: FleetIndex;
  scopes: ScopeStatus[];
  /** models blocked for every project (several projects' breakers open together) */
  modelBlocks: Array<{ model: string; msLeft: number }>;
}

export interface SnapshotDeps {
  fleet(): Promise<FleetIndex>;
  limiter: Limiter;
  ledger: Pick<Ledger, 'used'>;
  day: DayClock;
  clock: () => number;
}

/** Every model the fleet may use: the default chain and every tenant's chain. */
export function fleetModels(fleet: FleetIndex): string[] {
  return [...new Set([...fleet.fleet.models, ...fleet.fleet.tenants.flatMap((t) => t.models ?? [])])];
}

/** Every (project, model) some key may be leased for. */
export function fleetScopes(fleet: FleetIndex): Array<{ scope: ScopeId; projectId: string; model: string }> {
  const models = fleetModels(fleet);
  const projects = [...new Set(fleet.fleet.keys.map((k) => k.projectId))];
  return projects.flatMap((projectId) => models.map((model) => ({ scope: scopeOf(projectId, model), projectId, model })));
}

const finite = (ms: number | null): number | null => (ms === null ? null : Number.isFinite(ms) ? ms : -1);

/**
 * The quota state of the whole fleet right now — window use from Redis, day
 * use from the ledger, limits with their source, blocks and breakers — the
 * one reading behind `status`, the dashboard, /metrics and the capacity check.
 */
export async function quotaSnapshot(deps: SnapshotDeps): Promise<QuotaSnapshot> {
  const at = deps.clock();
  const fleet = await deps.fleet();
  const day = deps.day.dayId(at);
  const dayUse = await deps.ledger.used(day);
  const scopes = await Promise.all(
    fleetScopes(fleet).map(async ({ scope, projectId, model }): Promise<ScopeStatus> => {
      const limits = fleet.limits(projectId, model);
      const [window, blocks, breaker, discovered, pooled] = await Promise.all([deps.limiter.usage(scope), deps.limiter.blocks(scope), deps.limiter.breaker(scope), deps.limiter.discovered(scope), deps.limiter.pooled(scope, day)]);
      const reserved = dayUse.get(scope) ?? 0;
      // spent = reserved in the ledger minus what the pool still holds
      const used = (d: Dimension): number => (isWindowDimension(d) ? window[d] : Math.max(0, reserved - pooled));
      // a limit discovery has moved is shown as it now stands
      const use = (d: Dimension): DimensionUse => {
        const found = isWindowDimension(d) ? discovered[d] : undefined;
        const extra = isWindowDimension(d) ? {} : { reserved };
        return found ? { used: used(d), limit: found.limit, source: 'discovered', ...extra } : { used: used(d), limit: limits[d], source: limits.sources[d], ...extra };
      };
      const dims = Object.fromEntries(DIMENSIONS.map((d) => [d, use(d)])) as Record<Dimension, DimensionUse>;
      return { projectId, model, cooldownMs: finite(blocks.coolMs), excludedMs: finite(blocks.dayMs), unsupported: fleet.isUnsupported(projectId, model), breaker, ...dims };
    }),
  );
  const modelBlocks = (await Promise.all(fleetModels(fleet).map(async (model) => ({ model, ms: await deps.limiter.modelBlock(model) })))).flatMap((m) => (m.ms === null ? [] : [{ model: m.model, msLeft: finite(m.ms) ?? -1 }]));
  return { at, day, fleet, scopes, modelBlocks };
}
