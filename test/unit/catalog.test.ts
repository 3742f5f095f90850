import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CATALOG,
  DEFAULT_LIMITS,
  PACKAGE_CATALOG,
  UNLIMITED_RPD,
  catalogLimits,
  closestModel,
  effectiveCatalog,
  isGuess,
  mergeCatalogs,
  resolveLimitDetails,
  resolveLimits,
  resolveModelAlias,
} from '../../src/core/catalog.js';
import { TIERS, type LimitSource } from '../../src/core/types.js';

const PUBLISHED = ['gemini-2.5-pro', 'gemini-2.5-flash', 'gemini-2.5-flash-lite', 'gemini-2.0-flash', 'gemini-2.0-flash-lite', 'gemini-3-pro-preview'];

describe('package catalog', () => {
  it('keeps every model with limits in every tier, positive and never shrinking with the tier', () => {
    for (const model of PUBLISHED) {
      let previous = { rpm: 0, tpm: 0, rpd: 0 };
      for (const tier of TIERS) {
        const limits = catalogLimits(DEFAULT_CATALOG, tier, model);
        const full = { rpm: limits?.rpm ?? -1, tpm: limits?.tpm ?? -1, rpd: limits?.rpd ?? -1 };
        for (const d of ['rpm', 'tpm', 'rpd'] as const) {
          expect(full[d], `${tier}/${model}/${d}`).toBeGreaterThan(0);
          expect(full[d], `${tier}/${model}/${d}`).toBeGreaterThanOrEqual(previous[d]);
        }
        previous = full;
      }
    }
  });

  it('carries the published free and tier1 rows', () => {
    expect(catalogLimits(DEFAULT_CATALOG, 'free', 'gemini-2.5-pro')).toEqual({ rpm: 5, tpm: 250_000, rpd: 100 });
    expect(catalogLimits(DEFAULT_CATALOG, 'free', 'gemini-2.5-flash')).toEqual({ rpm: 10, tpm: 250_000, rpd: 250 });
    expect(catalogLimits(DEFAULT_CATALOG, 'free', 'gemini-2.5-flash-lite')).toEqual({ rpm: 15, tpm: 250_000, rpd: 1_000 });
    expect(catalogLimits(DEFAULT_CATALOG, 'tier1', 'gemini-2.5-pro')).toEqual({ rpm: 150, tpm: 2_000_000, rpd: 10_000 });
    expect(catalogLimits(DEFAULT_CATALOG, 'tier1', 'gemini-2.5-flash')).toEqual({ rpm: 1_000, tpm: 1_000_000, rpd: 10_000 });
    expect(catalogLimits(DEFAULT_CATALOG, 'tier3', 'gemini-2.5-pro')?.rpd).toBe(UNLIMITED_RPD);
  });

  it('says where every value came from', () => {
    const notes: string[] = [];
    for (const m of Object.values(PACKAGE_CATALOG.models ?? {})) {
      for (const row of Object.values(m.limits ?? {})) notes.push(row.source);
      if (m.prices) notes.push(m.prices.source, ...(m.prices.changes ?? []).map((c) => c.source));
      if (m.lifecycle) notes.push(m.lifecycle.source);
    }
    for (const a of Object.values(PACKAGE_CATALOG.aliases ?? {})) notes.push(a.source);
    expect(notes.length).toBeGreaterThan(40);
    for (const n of notes) expect(n, n).toMatch(/https:\/\/|^estimate:/);
  });

  it('ships the Gemini 3 models it documents, with prices and without guessed limits', () => {
    for (const model of ['gemini-3-flash-preview', 'gemini-3.1-pro-preview', 'gemini-3.5-flash-lite', 'gemini-3.8-flash']) {
      expect(DEFAULT_CATALOG.models.get(model)?.prices, model).toBeDefined();
      expect(catalogLimits(DEFAULT_CATALOG, 'tier1', model), model).toBeUndefined();
    }
  });

  it('accepts the models/ prefix and aliases, and knows nothing by prefix guessing', () => {
    expect(catalogLimits(DEFAULT_CATALOG, 'free', 'models/gemini-2.5-flash')).toEqual(catalogLimits(DEFAULT_CATALOG, 'free', 'gemini-2.5-flash'));
    expect(resolveModelAlias(DEFAULT_CATALOG, 'models/gemini-flash-latest')).toBe(DEFAULT_CATALOG.aliases.get('gemini-flash-latest')?.value);
    expect(catalogLimits(DEFAULT_CATALOG, 'free', 'gemini-2.5-flash-image')).toBeUndefined();
    expect(catalogLimits(DEFAULT_CATALOG, 'free', 'constructor')).toBeUndefined();
    expect(resolveModelAlias(DEFAULT_CATALOG, 'gemini-9-ultra')).toBe('gemini-9-ultra');
  });
});

describe('resolveLimits', () => {
  it('uses the catalog for known models', () => {
    expect(resolveLimits({ tier: 'tier1', model: 'gemini-2.5-pro' })).toMatchObject({
      rpm: 150,
      tpm: 2_000_000,
      rpd: 10_000,
      sources: { rpm: 'catalog', tpm: 'catalog', rpd: 'catalog' },
    });
  });

  it('falls back to the safe floor for unknown models, marked as a guess', () => {
    expect(resolveLimits({ tier: 'tier3', model: 'gemini-9-ultra' })).toMatchObject({ ...DEFAULT_LIMITS, sources: { rpm: 'default', tpm: 'default', rpd: 'default' } });
    expect(resolveLimitDetails({ tier: 'tier3', model: 'gemini-9-ultra' }).rpm.guess).toBe(true);
    // a documented model whose tier Google publishes nothing for is a guess too
    expect(resolveLimitDetails({ tier: 'tier2', model: 'gemini-3.8-flash' }).tpm).toMatchObject({ source: 'default', guess: true });
  });

  it('per dimension: discovered > learned > configured > catalog', () => {
    const r = resolveLimits({ tier: 'free', model: 'gemini-2.5-flash', configured: { rpm: 8, rpd: 500 }, learned: { rpd: 20, tpm: 9 }, discovered: { tpm: 7 } });
    expect(r).toMatchObject({ rpm: 8, tpm: 7, rpd: 20, sources: { rpm: 'configured', tpm: 'discovered', rpd: 'learned' } });
  });

  it('configured and learned apply to unknown models too', () => {
    const r = resolveLimits({ tier: 'free', model: 'new-model', configured: { tpm: 1_000 }, learned: { rpm: 3 } });
    expect(r).toMatchObject({ rpm: 3, tpm: 1_000, rpd: 100, sources: { rpm: 'learned', tpm: 'configured', rpd: 'default' } });
    expect(r.guess).toEqual({ rpm: false, tpm: false, rpd: true });
  });

  it('a learned 0 is real; junk values are ignored', () => {
    const r = resolveLimits({ tier: 'free', model: 'gemini-2.5-pro', learned: { rpd: 0, rpm: Number.NaN }, configured: { tpm: -1 } });
    expect(r).toMatchObject({ rpm: 5, tpm: 250_000, rpd: 0, sources: { rpm: 'catalog', tpm: 'catalog', rpd: 'learned' } });
  });

  it('takes a custom catalog and reports the layer of every value', () => {
    const catalog = mergeCatalogs([
      { source: 'catalog', doc: { models: { m: { limits: { free: { rpm: 1, tpm: 2, rpd: 3, source: 'https://example.test a' } } } } } },
      { source: 'catalog-file', doc: { models: { m: { limits: { free: { tpm: 20, source: 'https://example.test b' } } } } } },
      { source: 'fleet-catalog', doc: { models: { m: { limits: { free: { rpd: 30, source: 'estimate: c' } } } } } },
    ]);
    expect(resolveLimits({ tier: 'free', model: 'm', catalog })).toMatchObject({ rpm: 1, tpm: 20, rpd: 30, sources: { rpm: 'catalog', tpm: 'catalog-file', rpd: 'fleet-catalog' } });
    const d = resolveLimitDetails({ tier: 'free', model: 'm', catalog });
    expect([d.tpm.note, d.rpd.guess, d.tpm.guess]).toEqual(['https://example.test b', true, false]);
    expect(resolveLimits({ tier: 'tier1', model: 'm', catalog }).sources.rpm).toBe('default');
  });

  it('returns fresh objects (callers may cache and must not share sources)', () => {
    const a = resolveLimits({ tier: 'free', model: 'gemini-2.5-pro' });
    const b = resolveLimits({ tier: 'free', model: 'gemini-2.5-pro' });
    expect(a.sources).not.toBe(b.sources);
  });
});

describe('isGuess', () => {
  it('is true for the floor, discovered values and catalog estimates only', () => {
    const sources: LimitSource[] = ['default', 'discovered', 'catalog', 'catalog-file', 'fleet-catalog', 'configured', 'learned'];
    expect(sources.map((s) => isGuess(s))).toEqual([
      true, true, false, false, false, false, false,
    ]);
    expect(isGuess('catalog', 'estimate: half the pro row')).toBe(true);
    expect(isGuess('catalog', 'https://ai.google.dev/x, estimated by Google')).toBe(false);
  });
});

describe('effectiveCatalog layers and model ids', () => {
  it('later layers win and aliases resolve through layers', () => {
    const c = effectiveCatalog({
      file: { models: { 'my-model': { limits: { tier1: { rpm: 70, source: 'estimate: ours' } } } }, aliases: { mine: { model: 'my-model', source: 'estimate: ours' } } },
      fleet: { models: { 'gemini-2.5-pro': { limits: { tier1: { rpm: 140, source: 'https://example.test' } } } } },
    });
    expect(resolveLimits({ tier: 'tier1', model: 'mine', catalog: c })).toMatchObject({ rpm: 70, sources: { rpm: 'catalog-file' } });
    expect(resolveLimits({ tier: 'tier1', model: 'gemini-2.5-pro', catalog: c })).toMatchObject({ rpm: 140, tpm: 2_000_000, sources: { rpm: 'fleet-catalog', tpm: 'catalog' } });
  });

  it('rejects aliases that name nothing, an alias, or a model of another layer', () => {
    expect(() =>
      effectiveCatalog({
        file: { aliases: { a: { model: 'nope', source: 'estimate: x' }, b: { model: 'gemini-flash-latest', source: 'estimate: x' }, 'gemini-2.5-pro': { model: 'gemini-2.5-flash', source: 'estimate: x' } } },
      }),
    ).toThrow(/aliases\.a: points at "nope"[\s\S]*aliases\.b: points at the alias[\s\S]*aliases\.gemini-2\.5-pro: "gemini-2\.5-pro" is also a model/);
  });

  it('suggests the closest known id', () => {
    expect(closestModel(DEFAULT_CATALOG, 'gemini-2.5-flsh')).toBe('gemini-2.5-flash');
    expect(closestModel(DEFAULT_CATALOG, 'models/gemini-flash-lates')).toBe('gemini-flash-latest');
    expect(closestModel(DEFAULT_CATALOG, 'gpt-4o')).toBeUndefined();
    expect(closestModel(DEFAULT_CATALOG, 'gemini-2.5-flash')).toBeUndefined();
  });
});
