import { DEFAULT_LIMITS, resolveLimitDetails, type LimitDetail } from './catalog.js';
import type { CatalogOrigin, EffectiveCatalog, EffectiveModel } from './catalog-merge.js';
import type { ModelStatus } from './catalog-schema.js';
import { TIERS, type Dimension, type Limits, type Tier } from './types.js';

/**
 * The effective catalog as a plain, stable document: what `quotaflow catalog
 * --json` prints (docs/catalog.md is the reference for this shape). Absent
 * values are null rather than missing so every model has the same keys.
 */
export interface CatalogReport {
  layers: Array<{ source: CatalogOrigin; name: string }>;
  /** the safe floor an unknown model or tier gets */
  floor: Limits;
  models: Record<string, ModelReport>;
  aliases: Record<string, { model: string; source: CatalogOrigin; note: string }>;
}

export interface ModelReport {
  /** alias ids that name this model */
  aliases: string[];
  lifecycle: {
    status: ModelStatus;
    released: string | null;
    shutdown: string | null;
    replacement: string | null;
    source: CatalogOrigin;
    note: string;
  } | null;
  /** every tier asked for, every dimension: the value quotaflow uses absent configured, learned or discovered limits */
  limits: Partial<Record<Tier, Record<Dimension, LimitDetail>>>;
  prices: (PriceRowReport & {
    changes: Array<PriceRowReport & { from: string; note: string }>;
    source: CatalogOrigin;
    note: string;
  }) | null;
}

export interface PriceRowReport {
  /** USD per 1M tokens */
  input: number;
  output: number;
  cachedInput: number | null;
  longContext: { aboveTokens: number; input: number; output: number; cachedInput: number | null } | null;
}

interface PriceRowIn {
  input: number;
  output: number;
  cachedInput?: number | undefined;
  longContext?: { aboveTokens: number; input: number; output: number; cachedInput?: number | undefined } | undefined;
}

const priceRow = (r: PriceRowIn): PriceRowReport => ({
  input: r.input,
  output: r.output,
  cachedInput: r.cachedInput ?? null,
  longContext: r.longContext ? { ...r.longContext, cachedInput: r.longContext.cachedInput ?? null } : null,
});

function modelReport(catalog: EffectiveCatalog, id: string, m: EffectiveModel, tiers: readonly Tier[]): ModelReport {
  const lc = m.lifecycle;
  const p = m.prices;
  return {
    aliases: [...catalog.aliases].filter(([, a]) => a.value === id).map(([alias]) => alias).sort(),
    lifecycle: lc
      ? {
          status: lc.value.status,
          released: lc.value.released ?? null,
          shutdown: lc.value.shutdown ?? null,
          replacement: lc.value.replacement ?? null,
          source: lc.source,
          note: lc.note,
        }
      : null,
    limits: Object.fromEntries(tiers.map((tier) => [tier, resolveLimitDetails({ tier, model: id, catalog })])),
    prices: p
      ? {
          ...priceRow(p.value),
          changes: (p.value.changes ?? []).map((c) => ({ ...priceRow(c), from: c.from, note: c.source })),
          source: p.source,
          note: p.note,
        }
      : null,
  };
}

/** The report for the whole catalog, or one model (canonical id, not an alias) and/or one tier. */
export function catalogReport(
  catalog: EffectiveCatalog,
  opts: { layers: CatalogReport['layers']; model?: string; tier?: Tier },
): CatalogReport {
  const tiers = opts.tier ? [opts.tier] : TIERS;
  const models: Record<string, ModelReport> = {};
  for (const [id, m] of catalog.models) {
    if (opts.model === undefined || opts.model === id) models[id] = modelReport(catalog, id, m, tiers);
  }
  const aliases: CatalogReport['aliases'] = {};
  for (const [id, a] of catalog.aliases) {
    if (opts.model === undefined || opts.model === a.value) aliases[id] = { model: a.value, source: a.source, note: a.note };
  }
  return { layers: opts.layers, floor: { ...DEFAULT_LIMITS }, models, aliases };
}

/** JSON with object keys sorted at every depth, so the output is stable across runs and versions. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
    return Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  });
}
