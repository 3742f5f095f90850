import type { Queue } from 'bullmq';
import type { SplitFigures } from '../app/usage-report.js';
import type { TenantStatus } from '../app/usage.js';
import { formatUsd } from '../core/money.js';
import type { System } from '../system.js';
import { liveRead, readLiveState } from './live-state.js';

/** How many tenants the "top tenants" list shows. */
export const TOP_TENANTS = 10;

const period = (f: SplitFigures): Record<string, unknown> => ({ requests: f.total.requests, centralRequests: f.central.requests, totalTokens: f.total.totalTokens, costUsd: formatUsd(f.total.costPico) });

/** Each tenant's usage and cost today and this month, its budget and its limits with what is used now. */
function tenantCosts(tenants: readonly TenantStatus[]): { tenantCosts: unknown[]; topTenants: unknown[] } {
  const top = [...tenants]
    .filter((t) => t.thisMonth.total.costPico > 0n)
    .sort((a, b) => (b.thisMonth.total.costPico > a.thisMonth.total.costPico ? 1 : b.thisMonth.total.costPico < a.thisMonth.total.costPico ? -1 : a.tenantId.localeCompare(b.tenantId)))
    .slice(0, TOP_TENANTS);
  return {
    tenantCosts: tenants.map((t) => ({ tenantId: t.tenantId, weight: t.weight, today: period(t.today), month: period(t.thisMonth), budget: t.budget, limits: t.limits })),
    topTenants: top.map((t) => ({ tenantId: t.tenantId, costUsd: formatUsd(t.thisMonth.total.costPico), requests: t.thisMonth.total.requests })),
  };
}

/** Usage per tenant is shown over this trailing window. */
export const TENANT_USAGE_WINDOW_MS = 24 * 3_600_000;

/**
 * Everything the dashboard page shows, as one JSON document: per-scope
 * quota bars, cooldowns and exclusions with time left, keys with state and
 * reason, usage per tenant (own vs central keys), usage and cost per tenant
 * today and this month with budgets and limits, the top tenants by cost,
 * breakers, queue depth.
 * Key ids and fingerprints only: never a secret.
 */
export async function dashboardData(sys: System, queue: Queue): Promise<Record<string, unknown>> {
  const live = await readLiveState(sys, queue);
  const [keys, usage] = await Promise.all([liveRead('keys read', () => sys.admin.keys()), liveRead('usage read', () => sys.stores.usage.byTenant(new Date(live.at - TENANT_USAGE_WINDOW_MS)))]);
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
    month: live.tenants[0]?.month ?? null,
    ...tenantCosts(live.tenants),
    breakers: live.scopes.filter((s) => s.breaker.state !== 'closed' || s.breaker.fails > 0).map((s) => ({ projectId: s.projectId, model: s.model, ...s.breaker })),
    modelBlocks: live.modelBlocks,
    queue: live.queue,
  };
}
