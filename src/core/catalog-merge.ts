import type { CatalogDoc, Lifecycle, LimitsRow, PriceEntry } from './catalog-schema.js';
import { DIMENSIONS, TIERS, type Dimension, type Tier } from './types.js';

/** Which catalog layer supplied a value; later layers win. */
export const CATALOG_ORIGINS = ['catalog', 'catalog-file', 'fleet-catalog'] as const;
export type CatalogOrigin = (typeof CATALOG_ORIGINS)[number];

/** Google publishes "unlimited" daily requests for some paid rows; a finite stand-in keeps the ledger simple. */
export const UNLIMITED_RPD = 100_000_000;

/** A value with the layer that supplied it and that layer's note on where the number came from. */
export interface Sourced<T> {
  readonly value: T;
  readonly source: CatalogOrigin;
  readonly note: string;
}

export interface EffectiveModel {
  readonly limits: Readonly<Partial<Record<Tier, Readonly<Partial<Record<Dimension, Sourced<number>>>>>>>;
  readonly prices: Sourced<PriceEntry> | undefined;
  readonly lifecycle: Sourced<Lifecycle> | undefined;
}

/** The catalog after layering. Maps, so ids like "constructor" never hit Object.prototype. */
export interface EffectiveCatalog {
  readonly models: ReadonlyMap<string, EffectiveModel>;
  /** alias id -> the model id it names */
  readonly aliases: ReadonlyMap<string, Sourced<string>>;
}

export interface CatalogLayer {
  source: CatalogOrigin;
  doc: CatalogDoc;
}

interface MutableModel {
  limits: Partial<Record<Tier, Partial<Record<Dimension, Sourced<number>>>>>;
  prices: Sourced<PriceEntry> | undefined;
  lifecycle: Sourced<Lifecycle> | undefined;
}

function rowValue(row: LimitsRow, d: Dimension): number | undefined {
  const v = row[d];
  return v === 'unlimited' ? UNLIMITED_RPD : v;
}

/**
 * Layers catalogs, later wins. Limits merge per (tier, dimension) value.
 * Prices and lifecycle are replaced per model as a whole: a price row is one
 * coherent list from one page on one date, and mixing the input price of one
 * list with the output price of another would bill a price nobody published.
 * Aliases merge per alias id. Pure: the layers are not modified.
 */
export function mergeCatalogs(layers: ReadonlyArray<CatalogLayer>): EffectiveCatalog {
  const models = new Map<string, MutableModel>();
  const aliases = new Map<string, Sourced<string>>();
  for (const { source, doc } of layers) {
    for (const [id, m] of Object.entries(doc.models ?? {})) {
      const into = models.get(id) ?? { limits: {}, prices: undefined, lifecycle: undefined };
      models.set(id, into);
      if (m.prices) into.prices = { value: m.prices, source, note: m.prices.source };
      if (m.lifecycle) into.lifecycle = { value: m.lifecycle, source, note: m.lifecycle.source };
      for (const tier of TIERS) {
        const row = m.limits?.[tier];
        if (!row) continue;
        const dims = (into.limits[tier] ??= {});
        for (const d of DIMENSIONS) {
          const v = rowValue(row, d);
          if (v !== undefined) dims[d] = { value: v, source, note: row.source };
        }
      }
    }
    for (const [id, a] of Object.entries(doc.aliases ?? {})) aliases.set(id, { value: a.model, source, note: a.source });
  }
  return { models, aliases };
}

/**
 * Problems only visible once layers are merged (a layer may name a model
 * another layer defines): aliases must name a known model, not another alias,
 * and an id cannot be both a model and an alias.
 */
export function catalogProblems(catalog: EffectiveCatalog): string[] {
  const problems: string[] = [];
  for (const [id, a] of catalog.aliases) {
    if (catalog.models.has(id)) problems.push(`aliases.${id}: "${id}" is also a model (from another layer): an id is either a model or an alias`);
    else if (catalog.aliases.has(a.value)) problems.push(`aliases.${id}: points at the alias "${a.value}"; point it at a model`);
    else if (!catalog.models.has(a.value)) problems.push(`aliases.${id}: points at "${a.value}", which no catalog layer lists under "models"`);
  }
  return problems;
}
