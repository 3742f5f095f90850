import { ValidationError } from '../errors.js';
import { catalogProblems, mergeCatalogs, type CatalogLayer, type EffectiveCatalog } from './catalog-merge.js';
import { resolveModelAlias } from './catalog-models.js';
import { PACKAGE_CATALOG } from './catalog-package.js';
import type { CatalogDoc } from './catalog-schema.js';
import { DIMENSIONS, type Dimension, type LimitSource, type Limits, type ResolvedLimits, type Tier } from './types.js';

/**
 * Per-(project, model) limits as data. Layers, later wins per value: the
 * package catalog < the QUOTAFLOW_CATALOG file < the fleet file's `catalog`
 * section < the project's configured limits < learned (a 429's quotaValue) or
 * discovered (probing). Google changes limits often and publishes new ones only
 * in AI Studio, so a value no layer knows is the safe floor, marked as a guess
 * for discovery to raise.
 */
export { CATALOG_ORIGINS, UNLIMITED_RPD, catalogProblems, mergeCatalogs } from './catalog-merge.js';
export type { CatalogLayer, CatalogOrigin, EffectiveCatalog, EffectiveModel, Sourced } from './catalog-merge.js';
export { canonicalModelId, closestModel, editDistance, isKnownModel, resolveModelAlias } from './catalog-models.js';
export { MODEL_STATUSES, catalogSectionSchema, parseCatalogDoc, parseCatalogText } from './catalog-schema.js';
export type { CatalogDoc, Lifecycle, ModelStatus, PriceChange, PriceEntry } from './catalog-schema.js';
export { PACKAGE_CATALOG } from './catalog-package.js';

/** The safe floor for a model no layer knows: the most conservative published row. */
export const DEFAULT_LIMITS: Limits = Object.freeze({ rpm: 5, tpm: 250_000, rpd: 100 });

/** The package catalog alone (what resolveLimits uses when given no catalog). */
export const DEFAULT_CATALOG: EffectiveCatalog = effectiveCatalog({});

/**
 * Layers the package catalog, an override file and the fleet's catalog
 * section; throws ValidationError listing every cross-layer problem.
 */
export function effectiveCatalog(layers: { file?: CatalogDoc; fleet?: CatalogDoc }): EffectiveCatalog {
  const list: CatalogLayer[] = [{ source: 'catalog', doc: PACKAGE_CATALOG }];
  if (layers.file) list.push({ source: 'catalog-file', doc: layers.file });
  if (layers.fleet) list.push({ source: 'fleet-catalog', doc: layers.fleet });
  const catalog = mergeCatalogs(list);
  const problems = catalogProblems(catalog);
  if (problems.length) throw new ValidationError('inconsistent catalog layers', problems);
  return catalog;
}

/** The catalog's values for a model and tier (aliases and `models/` resolved); undefined when no layer lists any. */
export function catalogLimits(catalog: EffectiveCatalog, tier: Tier, model: string): Partial<Limits> | undefined {
  const row = catalog.models.get(resolveModelAlias(catalog, model))?.limits[tier];
  if (!row) return undefined;
  const out: Partial<Limits> = {};
  for (const d of DIMENSIONS) {
    const v = row[d];
    if (v) out[d] = v.value;
  }
  return out;
}

export interface LimitDetail {
  value: number;
  source: LimitSource;
  /** where the number came from: the catalog layer's note, or what the source means */
  note: string;
  /** nobody vouches for it: discovery may raise it */
  guess: boolean;
}

export interface ResolveLimitsArgs {
  tier: Tier;
  model: string;
  configured?: Partial<Limits>;
  learned?: Partial<Limits>;
  discovered?: Partial<Limits>;
  catalog?: EffectiveCatalog;
}

const NOTES: Record<'default' | 'configured' | 'learned' | 'discovered', string> = {
  default: 'safe floor: no catalog layer lists this model and tier; discovery raises it',
  configured: "the project's limits in the fleet file",
  learned: "the quotaValue of a 429's QuotaFailure",
  discovered: 'discovered: raised while calls succeed near the limit, lowered by 429s',
};

/** Whether a value is a guess nobody vouches for: the safe floor, a discovered value, or a catalog "estimate:". */
export function isGuess(source: LimitSource, note?: string): boolean {
  if (source === 'default' || source === 'discovered') return true;
  return note !== undefined && /^\s*estimate\b/i.test(note);
}

/** Accepts 0 (a quota of zero is real: "limit: 0" for models without a free tier), rejects junk. */
const usable = (v: number | undefined): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

/**
 * Per dimension, the strongest source: discovered > learned > configured >
 * fleet catalog > catalog file > package catalog > safe floor. Discovery
 * starts from the learned value and folds every later 429 into its state, so
 * when a caller passes both, the discovered value is the newer evidence.
 */
export function resolveLimitDetails(args: ResolveLimitsArgs): Record<Dimension, LimitDetail> {
  const catalog = args.catalog ?? DEFAULT_CATALOG;
  const row = catalog.models.get(resolveModelAlias(catalog, args.model))?.limits[args.tier];
  const pick = (d: Dimension): LimitDetail => {
    for (const source of ['discovered', 'learned', 'configured'] as const) {
      const v = args[source]?.[d];
      if (usable(v)) return { value: v, source, note: NOTES[source], guess: isGuess(source) };
    }
    const c = row?.[d];
    if (c) return { value: c.value, source: c.source, note: c.note, guess: isGuess(c.source, c.note) };
    return { value: DEFAULT_LIMITS[d], source: 'default', note: NOTES.default, guess: true };
  };
  return { rpm: pick('rpm'), tpm: pick('tpm'), rpd: pick('rpd') };
}

/** The limits a scope is held to, with the source of each value. */
export function resolveLimits(args: ResolveLimitsArgs): ResolvedLimits {
  const d = resolveLimitDetails(args);
  return {
    rpm: d.rpm.value,
    tpm: d.tpm.value,
    rpd: d.rpd.value,
    sources: { rpm: d.rpm.source, tpm: d.tpm.source, rpd: d.rpd.source },
    guess: { rpm: d.rpm.guess, tpm: d.tpm.guess, rpd: d.rpd.guess },
  };
}
