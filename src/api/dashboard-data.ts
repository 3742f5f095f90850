import type { Queue } from 'bullmq';
import type { System } from '../system.js';
import { readLiveState } from './live-state.js';

/** Usage per tenant is shown over this trailing window. */
export const TENANT_USAGE_WINDOW_MS = 24 * 3_600_000;

/**
 * Everything the dashboard page shows, as one JSON document: per-scope
 * quota bars, cooldowns and exclusions with time left, keys with state and
 * reason, usage per tenant (own vs central keys), breakers, queue depth.
 * Key ids and fingerprints only: never a secret.
 */
export async function dashboardData(sys: System, queue: Queue): Promise<Record<string, unknown>> {
  const live = await readLiveState(sys, queue);
  const [keys, usage] = await Promise.all([sys.admin.keys(), sys.stores.usage.byTenant(new Date(live.at - TENANT_USAGE_WINDOW_MS))]);
  const tenants = new Map<string, { tenantId: string; ownRequests: number; centralRequests: number; successes: number; totalTokens: number }>();
  for (const t of live.fleet.fleet.tenants) tenants.set(t.id, { tenantId: t.id, ownRequests: 0, centralRequests: 0, successes: 0, totalTokens: 0 });
  for (const u of usage) {
    const row = tenants.get(u.tenantId) ?? { tenantId: u.tenantId, ownRequests: 0, centralRequests: 0, successes: 0, totalTokens: 0 };
    if (u.central) row.centralRequests += u.requests;
    else row.ownRequests += u.requests;
    row.successes += u.successes;
    row.totalTokens += u.totalTokens;
    tenants.set(u.tenantId, row);
  }
  return {
    at: live.at,
    day: live.day,
    version: live.fleet.fleet.version,
    models: live.fleet.fleet.models,
    scopes: live.scopes,
    cooldowns: live.scopes.filter((s) => s.cooldownMs !== null).map((s) => ({ projectId: s.projectId, model: s.model, msLeft: s.cooldownMs })),
    exclusions: live.exclusions.map((e) => ({ projectId: e.projectId, model: e.model, reason: e.reason, detail: e.detail, msLeft: e.until ? e.until.getTime() - live.at : null })),
    keys: keys.map((k) => ({ id: k.id, tenantId: k.tenantId, projectId: k.projectId, fingerprint: k.fingerprint, priority: k.priority, enabled: k.enabled, disabledReason: k.disabledReason, disabledBy: k.disabledBy })),
    tenants: [...tenants.values()],
    tenantUsageWindowMs: TENANT_USAGE_WINDOW_MS,
    breakers: live.scopes.filter((s) => s.breaker.state !== 'closed' || s.breaker.fails > 0).map((s) => ({ projectId: s.projectId, model: s.model, ...s.breaker })),
    modelBlocks: live.modelBlocks,
    queue: live.queue,
  };
}
