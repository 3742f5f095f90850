import type { MetricFamily, Sample } from '../adapters/metrics/exposition.js';
import { DIMENSIONS } from '../core/types.js';
import type { LiveState } from './live-state.js';

const gauge = (name: string, help: string, samples: Sample[]): MetricFamily => ({ name, help, type: 'gauge', samples });
/** remaining ms -> seconds; -1 (until cleared) stays -1 */
const seconds = (ms: number): number => (ms < 0 ? -1 : ms / 1000);

/** Gauges computed from the live state at scrape time: quota, cooldowns, exclusions, breakers, keys, queue. */
export function liveFamilies(s: LiveState): MetricFamily[] {
  const scope = (x: { projectId: string; model: string }): { project: string; model: string } => ({ project: x.projectId, model: x.model });
  const exclusionsByReason = new Map<string, number>();
  for (const e of s.exclusions) exclusionsByReason.set(e.reason, (exclusionsByReason.get(e.reason) ?? 0) + 1);
  const keys = s.fleet.fleet.keys;
  return [
    gauge('quotaflow_quota_used', 'Quota used per (project, model) and dimension: rpm/tpm in the sliding minute, rpd in the quota day.',
      s.scopes.flatMap((x) => DIMENSIONS.map((d) => ({ labels: { ...scope(x), dimension: d }, value: x[d].used })))),
    gauge('quotaflow_quota_limit', 'Quota limit per (project, model) and dimension, with where the limit came from.',
      s.scopes.flatMap((x) => DIMENSIONS.map((d) => ({ labels: { ...scope(x), dimension: d, source: x[d].source }, value: x[d].limit })))),
    gauge('quotaflow_scope_cooldown_seconds', 'Seconds left on a (project, model) cooldown (-1: until cleared).',
      s.scopes.filter((x) => x.cooldownMs !== null).map((x) => ({ labels: scope(x), value: seconds(x.cooldownMs ?? 0) }))),
    gauge('quotaflow_cooldowns', 'Number of (project, model) scopes cooling down now.', [{ labels: {}, value: s.scopes.filter((x) => x.cooldownMs !== null).length }]),
    gauge('quotaflow_scope_excluded_seconds', 'Seconds left on a (project, model) day exclusion in Redis (-1: until cleared).',
      s.scopes.filter((x) => x.excludedMs !== null).map((x) => ({ labels: scope(x), value: seconds(x.excludedMs ?? 0) }))),
    gauge('quotaflow_exclusions', 'Stored exclusions in force, by reason.', [...exclusionsByReason].map(([reason, value]) => ({ labels: { reason }, value }))),
    gauge('quotaflow_breaker_state', 'Per (project, model) circuit breaker: 1 for the current state, 0 for the others.',
      s.scopes.flatMap((x) => (['closed', 'open', 'half_open'] as const).map((st) => ({ labels: { ...scope(x), state: st }, value: x.breaker.state === st ? 1 : 0 })))),
    gauge('quotaflow_model_blocked_seconds', 'Seconds left on a model-wide block (breakers of several projects open together; -1: until cleared).',
      s.modelBlocks.map((m) => ({ labels: { model: m.model }, value: seconds(m.msLeft) }))),
    gauge('quotaflow_keys', 'Keys by state.', [
      { labels: { state: 'enabled' }, value: keys.filter((k) => k.enabled).length },
      { labels: { state: 'disabled' }, value: keys.filter((k) => !k.enabled).length },
    ]),
    gauge('quotaflow_key_enabled', 'Per key: 1 enabled, 0 disabled.',
      keys.map((k) => ({ labels: { key: k.id, tenant: k.tenantId ?? 'central', project: k.projectId }, value: k.enabled ? 1 : 0 }))),
    gauge('quotaflow_queue_jobs', 'Generation jobs in the queue by state.', Object.entries(s.queue).map(([state, value]) => ({ labels: { state }, value }))),
    ...tenantFamilies(s),
  ];
}

/** picodollars -> USD, exact to the micro-dollar (a float cannot hold more anyway) */
const usd = (pico: bigint): number => Number(pico / 1_000_000n) / 1e6;

/**
 * Per tenant: cost to date, and each limit it has with what is used of it
 * now (window, day, queue; the budget in USD). Tenants the fleet no longer
 * has count under `_unknown`, so label values stay bounded by the fleet.
 */
function tenantFamilies(s: LiveState): MetricFamily[] {
  const known = new Set(s.fleet.fleet.tenants.map((t) => t.id));
  let unknown = 0n;
  for (const [id, pico] of s.tenantCosts) if (!known.has(id)) unknown += pico;
  const costs: Sample[] = s.fleet.fleet.tenants.map((t) => ({ labels: { tenant: t.id }, value: usd(s.tenantCosts.get(t.id) ?? 0n) }));
  if (unknown > 0n) costs.push({ labels: { tenant: '_unknown' }, value: usd(unknown) });
  const limits = s.tenants.flatMap((t) => [
    ...t.limits.map((l) => ({ tenant: t.tenantId, limit: l.limit, value: l.value, used: l.used })),
    ...(t.budget ? [{ tenant: t.tenantId, limit: 'budget', value: t.budget.monthlyUsd, used: t.budget.spentUsd }] : []),
  ]);
  return [
    { name: 'quotaflow_tenant_cost_total', help: "What each tenant's upstream calls have cost, in USD at the catalog's prices (from the stored daily totals).", type: 'counter', samples: costs },
    gauge('quotaflow_tenant_limit', "A tenant's own limits: rpm/tpm (sliding minute), rpd/tokensPerDay/centralRpd/centralTokensPerDay (quota day), queuedJobs/queuedBytes (outstanding), budget (USD per month).",
      limits.map((l) => ({ labels: { tenant: l.tenant, limit: l.limit }, value: l.value }))),
    gauge('quotaflow_tenant_limit_used', 'What a tenant has used of each of its limits now (same units as quotaflow_tenant_limit).',
      limits.map((l) => ({ labels: { tenant: l.tenant, limit: l.limit }, value: l.used }))),
  ];
}
