import type { FleetIndex } from '../core/fleet-index.js';
import type { Logger } from '../logger.js';
import type { Alerts } from './ports.js';
import { scopeOf } from '../core/scope.js';
import type { ScopeStatus } from './snapshot.js';

/** The maintenance queue and its jobs: one enum of names, each with a handler (workers/maintenance.ts checks at start). */
export const MAINTENANCE_QUEUE = 'maintenance';
export const MAINTENANCE_JOBS = ['health-check', 'expire-exclusions', 'usage-retention', 'capacity-check', 'key-priority', 'discovery-sync'] as const;
export type MaintenanceJob = (typeof MAINTENANCE_JOBS)[number];

/** Intervals; health checks and retention are configurable (QUOTAFLOW_HEALTH_CHECK_MS, QUOTAFLOW_USAGE_RETENTION_DAYS). */
export const MAINTENANCE_DEFAULTS = Object.freeze({
  healthCheckEveryMs: 5 * 60_000,
  expireExclusionsEveryMs: 60_000,
  capacityCheckEveryMs: 60_000,
  keyPriorityEveryMs: 60_000,
  retentionEveryMs: 3_600_000,
  discoverySyncEveryMs: 30_000,
  usageRetentionDays: 14,
});

/** Deletes stored exclusions whose reset has passed (their Redis blocks expire by TTL); announces when any went. */
export async function expireExclusions(deps: { deleteExpired(now: Date): Promise<number>; announce(): Promise<void>; logger: Logger }, now: Date): Promise<number> {
  const n = await deps.deleteExpired(now);
  if (n > 0) {
    deps.logger.info({ expired: n }, 'expired exclusions removed');
    await deps.announce();
  }
  return n;
}

/** Deletes usage rows older than `days`; returns how many. */
export async function trimUsage(deps: { deleteBefore(before: Date): Promise<number>; logger: Logger }, nowMs: number, days: number): Promise<number> {
  const n = await deps.deleteBefore(new Date(nowMs - days * 86_400_000));
  if (n > 0) deps.logger.info({ deleted: n, days }, 'old usage rows removed');
  return n;
}

/**
 * Tenants that cannot be served at all until an operator acts or a day
 * resets: no enabled key their key mode allows has a model of their chain
 * that is supported, not excluded and has RPD left. Cooldowns are passing
 * weather and do not count.
 */
export function tenantsWithoutCapacity(fleet: FleetIndex, scopes: readonly ScopeStatus[]): Array<{ tenantId: string; detail: string }> {
  const usable = new Set(scopes.filter((s) => !s.unsupported && s.excludedMs === null && s.rpd.used < s.rpd.limit).map((s) => scopeOf(s.projectId, s.model)));
  const out: Array<{ tenantId: string; detail: string }> = [];
  for (const t of fleet.fleet.tenants) {
    const keys = [...(t.keyMode !== 'central-only' ? fleet.ownKeys(t.id) : []), ...(t.keyMode !== 'own-only' ? fleet.centralKeys() : [])].filter((k) => k.enabled);
    const chain = t.models ?? fleet.fleet.models;
    if (keys.some((k) => chain.some((m) => usable.has(scopeOf(k.projectId, m))))) continue;
    const detail =
      keys.length === 0
        ? `tenant ${t.id} (${t.keyMode}) has no enabled key`
        : `every (project, model) of tenant ${t.id}'s chain ${chain.join(' > ')} is excluded, unsupported or out of daily quota`;
    out.push({ tenantId: t.id, detail });
  }
  return out;
}

/** Alerts `no_capacity` for every tenant without capacity (the alerts adapter dedupes repeats). */
export function alertNoCapacity(fleet: FleetIndex, scopes: readonly ScopeStatus[], alerts: Alerts): string[] {
  const stuck = tenantsWithoutCapacity(fleet, scopes);
  for (const s of stuck) alerts.send({ kind: 'no_capacity', subject: s.tenantId, detail: s.detail });
  return stuck.map((s) => s.tenantId);
}
