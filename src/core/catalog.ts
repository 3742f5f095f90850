import { DIMENSIONS, type Dimension, type LimitSource, type Limits, type ResolvedLimits, type Tier } from './types.js';

/**
 * Default per-tier model limits, as data (R3). Google changes these often;
 * they are a starting point that projects override in the fleet file and
 * that 429 bodies correct (learned limits win over everything).
 * Values follow ai.google.dev/gemini-api/docs/rate-limits (2025).
 */
export type ModelCatalog = Readonly<Record<Tier, Readonly<Record<string, Limits>>>>;

/** Google publishes "unlimited" daily requests for some paid models; a finite stand-in keeps the ledger simple. */
export const UNLIMITED_RPD = 100_000_000;

/** For models the catalog does not know: the most conservative published row. */
export const DEFAULT_LIMITS: Limits = Object.freeze({ rpm: 5, tpm: 250_000, rpd: 100 });

const l = (rpm: number, tpm: number, rpd: number): Limits => Object.freeze({ rpm, tpm, rpd });

export const DEFAULT_CATALOG: ModelCatalog = Object.freeze({
  free: Object.freeze({
    'gemini-2.5-pro': l(5, 250_000, 100),
    'gemini-2.5-flash': l(10, 250_000, 250),
    'gemini-2.5-flash-lite': l(15, 250_000, 1_000),
    'gemini-2.0-flash': l(15, 1_000_000, 200),
    'gemini-2.0-flash-lite': l(30, 1_000_000, 200),
    // No published free quota for the preview; assume the free pro row rather than none.
    'gemini-3-pro-preview': l(5, 250_000, 100),
  }),
  tier1: Object.freeze({
    'gemini-2.5-pro': l(150, 2_000_000, 10_000),
    'gemini-2.5-flash': l(1_000, 1_000_000, 10_000),
    'gemini-2.5-flash-lite': l(4_000, 4_000_000, UNLIMITED_RPD),
    'gemini-2.0-flash': l(2_000, 4_000_000, UNLIMITED_RPD),
    'gemini-2.0-flash-lite': l(4_000, 4_000_000, UNLIMITED_RPD),
    'gemini-3-pro-preview': l(50, 1_000_000, 1_000),
  }),
  tier2: Object.freeze({
    'gemini-2.5-pro': l(1_000, 5_000_000, 50_000),
    'gemini-2.5-flash': l(2_000, 3_000_000, 100_000),
    'gemini-2.5-flash-lite': l(10_000, 10_000_000, UNLIMITED_RPD),
    'gemini-2.0-flash': l(10_000, 10_000_000, UNLIMITED_RPD),
    'gemini-2.0-flash-lite': l(20_000, 10_000_000, UNLIMITED_RPD),
    'gemini-3-pro-preview': l(1_000, 5_000_000, 50_000),
  }),
  tier3: Object.freeze({
    'gemini-2.5-pro': l(2_000, 8_000_000, UNLIMITED_RPD),
    'gemini-2.5-flash': l(10_000, 8_000_000, UNLIMITED_RPD),
    'gemini-2.5-flash-lite': l(30_000, 30_000_000, UNLIMITED_RPD),
    'gemini-2.0-flash': l(30_000, 30_000_000, UNLIMITED_RPD),
    'gemini-2.0-flash-lite': l(30_000, 30_000_000, UNLIMITED_RPD),
    'gemini-3-pro-preview': l(2_000, 8_000_000, UNLIMITED_RPD),
  }),
});

/** Accepts 0 (a quota of zero is real: "limit: 0" for models without a free tier), rejects junk. */
const usable = (v: number | undefined): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

/** 'models/gemini-2.5-flash' and 'gemini-2.5-flash' are the same model. Unknown ids match nothing (no prefix guessing). */
export function catalogLimits(catalog: ModelCatalog, tier: Tier, model: string): Limits | undefined {
  const id = model.startsWith('models/') ? model.slice('models/'.length) : model;
  return Object.hasOwn(catalog[tier], id) ? catalog[tier][id] : undefined;
}

/** Per dimension, the strongest source wins: learned > configured > catalog > default. */
export function resolveLimits(args: {
  tier: Tier;
  model: string;
  configured?: Partial<Limits>;
  learned?: Partial<Limits>;
  catalog?: ModelCatalog;
}): ResolvedLimits {
  const fromCatalog = catalogLimits(args.catalog ?? DEFAULT_CATALOG, args.tier, args.model);
  const pick = (d: Dimension): [number, LimitSource] => {
    const learned = args.learned?.[d];
    if (usable(learned)) return [learned, 'learned'];
    const configured = args.configured?.[d];
    if (usable(configured)) return [configured, 'configured'];
    if (fromCatalog) return [fromCatalog[d], 'catalog'];
    return [DEFAULT_LIMITS[d], 'default'];
  };
  const out: ResolvedLimits = { rpm: 0, tpm: 0, rpd: 0, sources: { rpm: 'default', tpm: 'default', rpd: 'default' } };
  for (const d of DIMENSIONS) {
    const [value, source] = pick(d);
    out[d] = value;
    out.sources[d] = source;
  }
  return out;
}
