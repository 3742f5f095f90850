import { effectiveCatalog, resolveLimits, UNLIMITED_RPD, type EffectiveCatalog } from './catalog.js';
import { attemptCost, priceBook, type PriceBook } from './pricing.js';
import { DEMOTION_STEP } from './key-health.js';
import type { ApiKey, Fleet, Limits, Project, ResolvedLimits, Tenant } from './types.js';

/**
 * A fleet prepared for leasing: lookups by tenant and scope, limits resolved
 * once per (project, model). Built when the fleet changes, never per lease.
 */
export interface FleetIndex {
  fleet: Fleet;
  tenant(id: string): Tenant | undefined;
  project(id: string): Project | undefined;
  key(id: string): ApiKey | undefined;
  /** the tenant's own keys, enabled or not, best (effective) priority first */
  ownKeys(tenantId: string): readonly ApiKey[];
  /** central keys, best priority first */
  centralKeys(): readonly ApiKey[];
  limits(projectId: string, model: string): ResolvedLimits;
  isUnsupported(projectId: string, model: string): boolean;
  isKnownModel(model: string): boolean;
  /** the catalog in force: package < QUOTAFLOW_CATALOG file < the fleet's section */
  catalog: EffectiveCatalog;
  /** why the file and fleet layers could not be combined (the package catalog applies), or null */
  catalogProblem: string | null;
  prices: PriceBook;
  /** what a call cost in picodollars, by the catalog's prices on its quota day (0 for unpriced models) */
  cost(model: string, usage: { promptTokens: number; candidatesTokens: number; thoughtsTokens?: number; cachedTokens?: number }, day: string): bigint;
  /** a value derived from this fleet, computed once per key (bounded: cleared past 10,000 keys) */
  memo<T>(key: string, build: () => T): T;
}

const MEMO_MAX = 10_000;

export function scopeOf(projectId: string, model: string): string {
  return `${projectId}|${model}`;
}

export function buildFleetIndex(fleet: Fleet): FleetIndex {
  const tenants = new Map(fleet.tenants.map((t) => [t.id, t]));
  const projects = new Map(fleet.projects.map((p) => [p.id, p]));
  // a demoted key keeps its place relative to other demoted keys, behind every healthy one
  const demoted = new Set(fleet.demoted ?? []);
  const effective = fleet.keys.map((k) => (demoted.has(k.id) ? { ...k, priority: k.priority + DEMOTION_STEP } : k));
  const keys = new Map(effective.map((k) => [k.id, k]));
  const byPriority = (a: ApiKey, b: ApiKey): number => a.priority - b.priority || a.id.localeCompare(b.id);
  const own = new Map<string, ApiKey[]>();
  const central: ApiKey[] = [];
  for (const k of effective) {
    if (k.tenantId === null) central.push(k);
    else own.set(k.tenantId, [...(own.get(k.tenantId) ?? []), k]);
  }
  central.sort(byPriority);
  for (const list of own.values()) list.sort(byPriority);

  const learned = new Map<string, Partial<Limits>>();
  for (const l of fleet.learned) {
    const s = scopeOf(l.projectId, l.model);
    learned.set(s, { ...learned.get(s), [l.dimension]: l.value });
  }
  const unsupported = new Set(fleet.unsupported.map((u) => scopeOf(u.projectId, u.model)));
  const models = new Set(fleet.models);
  let catalog: EffectiveCatalog;
  let catalogProblem: string | null = null;
  try {
    catalog = effectiveCatalog({ ...(fleet.catalogFile ? { file: fleet.catalogFile } : {}), ...(fleet.catalog ? { fleet: fleet.catalog } : {}) });
  } catch (err) {
    catalogProblem = err instanceof Error ? err.message : String(err);
    catalog = effectiveCatalog({});
  }
  const prices = priceBook(catalog);
  const resolved = new Map<string, ResolvedLimits>();
  const memo = new Map<string, unknown>();

  return {
    fleet,
    tenant: (id) => tenants.get(id),
    project: (id) => projects.get(id),
    key: (id) => keys.get(id),
    ownKeys: (tenantId) => own.get(tenantId) ?? [],
    centralKeys: () => central,
    limits(projectId, model) {
      const s = scopeOf(projectId, model);
      let r = resolved.get(s);
      if (!r) {
        const p = projects.get(projectId);
        r = resolveLimits({
          tier: p?.tier ?? 'free',
          model,
          ...(p?.limits[model] ? { configured: p.limits[model] } : {}),
          ...(learned.has(s) ? { learned: learned.get(s) } : {}),
          catalog,
        });
        // a daily limit nobody knows is not held at a guessed floor (a day is too long to discover it
        // step by step): Google's per-day 429 excludes the scope for the rest of the day and names it
        if (r.guess?.rpd) r = { ...r, rpd: UNLIMITED_RPD };
        resolved.set(s, r);
      }
      return r;
    },
    isUnsupported: (projectId, model) => unsupported.has(scopeOf(projectId, model)),
    isKnownModel: (model) => models.has(model),
    catalog,
    catalogProblem,
    prices,
    cost: (model, usage, day) => attemptCost(prices, model, usage, { day }).amount,
    memo<T>(key: string, build: () => T): T {
      if (memo.has(key)) return memo.get(key) as T;
      if (memo.size >= MEMO_MAX) memo.clear();
      const v = build();
      memo.set(key, v);
      return v;
    },
  };
}
