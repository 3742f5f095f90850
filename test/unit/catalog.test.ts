import { describe, expect, it } from 'vitest';
import { DEFAULT_CATALOG, DEFAULT_LIMITS, catalogLimits, resolveLimits, type ModelCatalog } from '../../src/core/catalog.js';
import { TIERS } from '../../src/core/types.js';

const MODELS = ['gemini-2.5-pro', 'gemini-2.5-flash', 'gemini-2.5-flash-lite', 'gemini-2.0-flash', 'gemini-2.0-flash-lite', 'gemini-3-pro-preview'];

describe('DEFAULT_CATALOG', () => {
  it('has every model in every tier, with positive limits that never shrink with the tier', () => {
    for (const model of MODELS) {
      let previous = { rpm: 0, tpm: 0, rpd: 0 };
      for (const tier of TIERS) {
        const limits = catalogLimits(DEFAULT_CATALOG, tier, model);
        expect(limits, `${tier}/${model}`).toBeDefined();
        if (!limits) continue;
        for (const d of ['rpm', 'tpm', 'rpd'] as const) {
          expect(limits[d]).toBeGreaterThan(0);
          expect(limits[d], `${tier}/${model}/${d}`).toBeGreaterThanOrEqual(previous[d]);
        }
        previous = limits;
      }
    }
  });

  it('carries the published free and tier1 rows', () => {
    expect(DEFAULT_CATALOG.free['gemini-2.5-pro']).toEqual({ rpm: 5, tpm: 250_000, rpd: 100 });
    expect(DEFAULT_CATALOG.free['gemini-2.5-flash']).toEqual({ rpm: 10, tpm: 250_000, rpd: 250 });
    expect(DEFAULT_CATALOG.free['gemini-2.5-flash-lite']).toEqual({ rpm: 15, tpm: 250_000, rpd: 1_000 });
    expect(DEFAULT_CATALOG.tier1['gemini-2.5-pro']).toEqual({ rpm: 150, tpm: 2_000_000, rpd: 10_000 });
    expect(DEFAULT_CATALOG.tier1['gemini-2.5-flash']).toEqual({ rpm: 1_000, tpm: 1_000_000, rpd: 10_000 });
  });

  it('accepts the models/ prefix and knows nothing by prefix guessing', () => {
    expect(catalogLimits(DEFAULT_CATALOG, 'free', 'models/gemini-2.5-flash')).toEqual(DEFAULT_CATALOG.free['gemini-2.5-flash']);
    expect(catalogLimits(DEFAULT_CATALOG, 'free', 'gemini-2.5-flash-image')).toBeUndefined();
    expect(catalogLimits(DEFAULT_CATALOG, 'free', 'constructor')).toBeUndefined();
  });
});

describe('resolveLimits', () => {
  it('uses the catalog for known models', () => {
    expect(resolveLimits({ tier: 'tier1', model: 'gemini-2.5-pro' })).toEqual({
      rpm: 150,
      tpm: 2_000_000,
      rpd: 10_000,
      sources: { rpm: 'catalog', tpm: 'catalog', rpd: 'catalog' },
    });
  });

  it('falls back to the conservative default for unknown models', () => {
    expect(resolveLimits({ tier: 'tier3', model: 'gemini-9-ultra' })).toEqual({ ...DEFAULT_LIMITS, sources: { rpm: 'default', tpm: 'default', rpd: 'default' } });
  });

  it('per dimension: learned > configured > catalog', () => {
    const r = resolveLimits({ tier: 'free', model: 'gemini-2.5-flash', configured: { rpm: 8, rpd: 500 }, learned: { rpd: 20 } });
    expect(r).toEqual({ rpm: 8, tpm: 250_000, rpd: 20, sources: { rpm: 'configured', tpm: 'catalog', rpd: 'learned' } });
  });

  it('configured and learned apply to unknown models too', () => {
    const r = resolveLimits({ tier: 'free', model: 'new-model', configured: { tpm: 1_000 }, learned: { rpm: 3 } });
    expect(r).toEqual({ rpm: 3, tpm: 1_000, rpd: 100, sources: { rpm: 'learned', tpm: 'configured', rpd: 'default' } });
  });

  it('a learned 0 is real; junk values are ignored', () => {
    const r = resolveLimits({ tier: 'free', model: 'gemini-2.5-pro', learned: { rpd: 0, rpm: Number.NaN }, configured: { tpm: -1 } });
    expect(r).toMatchObject({ rpm: 5, tpm: 250_000, rpd: 0, sources: { rpm: 'catalog', tpm: 'catalog', rpd: 'learned' } });
  });

  it('takes a custom catalog', () => {
    const catalog: ModelCatalog = { free: { m: { rpm: 1, tpm: 2, rpd: 3 } }, tier1: {}, tier2: {}, tier3: {} };
    expect(resolveLimits({ tier: 'free', model: 'm', catalog })).toMatchObject({ rpm: 1, tpm: 2, rpd: 3 });
    expect(resolveLimits({ tier: 'tier1', model: 'm', catalog }).sources.rpm).toBe('default');
  });

  it('returns fresh objects (callers may cache and must not share sources)', () => {
    const a = resolveLimits({ tier: 'free', model: 'gemini-2.5-pro' });
    const b = resolveLimits({ tier: 'free', model: 'gemini-2.5-pro' });
    expect(a.sources).not.toBe(b.sources);
  });
});
