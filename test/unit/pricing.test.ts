import { describe, expect, it } from 'vitest';
import { DEFAULT_CATALOG, mergeCatalogs } from '../../src/core/catalog.js';
import { PICODOLLARS_PER_USD, addMoney, compareMoney, formatUsd, picodollarsPerToken, toCents } from '../../src/core/money.js';
import { attemptCost, priceBook } from '../../src/core/pricing.js';

const catalog = mergeCatalogs([
  {
    source: 'catalog',
    doc: {
      models: {
        pro: { prices: { input: 1.25, output: 10, cachedInput: 0.125, longContext: { aboveTokens: 200_000, input: 2.5, output: 15, cachedInput: 0.25 }, source: 'https://example.test/pricing' } },
        flash: {
          prices: {
            input: 0.075,
            output: 0.3,
            source: 'https://example.test/pricing',
            changes: [{ from: '2027-01-01', input: 0.15, output: 0.6, cachedInput: 0.015, source: 'https://example.test/pricing' }],
          },
        },
        unpriced: {},
      },
      aliases: { 'flash-latest': { model: 'flash', source: 'estimate: test' } },
    },
  },
]);
const book = priceBook(catalog);
// picodollars per token = USD per 1M tokens × 1e6
const pico = (usdPerMillion: number, tokens: number): bigint => BigInt(Math.round(usdPerMillion * 1e6)) * BigInt(tokens);

describe('attemptCost', () => {
  it('bills fresh prompt, cached prompt and output (thinking included) at their prices', () => {
    const c = attemptCost(book, 'pro', { promptTokens: 10_000, cachedTokens: 4_000, candidatesTokens: 500, thoughtsTokens: 1_500 });
    expect(c.parts).toEqual({ input: pico(1.25, 6_000), cachedInput: pico(0.125, 4_000), output: pico(10, 2_000) });
    expect(c.amount).toBe(c.parts.input + c.parts.cachedInput + c.parts.output);
    expect(formatUsd(c.amount)).toBe('0.028');
    expect(c).toMatchObject({ priced: true, longContext: false });
  });

  it('above the threshold, the long-context row prices the whole call; at it, the normal row', () => {
    const at = attemptCost(book, 'pro', { promptTokens: 200_000, candidatesTokens: 1_000 });
    const above = attemptCost(book, 'pro', { promptTokens: 200_001, cachedTokens: 1, candidatesTokens: 1_000 });
    expect(at.longContext).toBe(false);
    expect(at.amount).toBe(pico(1.25, 200_000) + pico(10, 1_000));
    expect(above.longContext).toBe(true);
    expect(above.parts).toEqual({ input: pico(2.5, 200_000), cachedInput: pico(0.25, 1), output: pico(15, 1_000) });
  });

  it('without a cached price, cached tokens cost the input price; aliases and models/ resolve', () => {
    const c = attemptCost(book, 'models/flash-latest', { promptTokens: 1_000, cachedTokens: 1_000, candidatesTokens: 0 });
    expect(c.parts.cachedInput).toBe(pico(0.075, 1_000));
  });

  it('applies a dated price change from its first Pacific day', () => {
    const usage = { promptTokens: 1_000_000, cachedTokens: 500_000, candidatesTokens: 0 };
    expect(attemptCost(book, 'flash', usage, { day: '2026-12-31' }).amount).toBe(pico(0.075, 1_000_000));
    expect(attemptCost(book, 'flash', usage, { day: '2027-01-01' }).amount).toBe(pico(0.15, 500_000) + pico(0.015, 500_000));
  });

  it('a model without prices costs 0 and says so', () => {
    for (const model of ['unpriced', 'no-such-model']) {
      expect(attemptCost(book, model, { promptTokens: 100, candidatesTokens: 100 })).toMatchObject({ amount: 0n, priced: false });
    }
  });

  it('survives junk usage metadata without inventing cost', () => {
    const c = attemptCost(book, 'pro', { promptTokens: 100, cachedTokens: 500, candidatesTokens: -3, thoughtsTokens: Number.NaN });
    expect(c.parts).toEqual({ input: 0n, cachedInput: pico(0.125, 100), output: 0n });
  });

  it('prices the package catalog exactly (no floating point drift over a million calls)', () => {
    const packageBook = priceBook(DEFAULT_CATALOG);
    const one = attemptCost(packageBook, 'gemini-2.5-flash-lite', { promptTokens: 3, candidatesTokens: 7 });
    expect(one.priced).toBe(true);
    const total = addMoney(...Array.from({ length: 1_000 }, () => one.amount)) * 1_000n;
    expect(total).toBe(one.amount * 1_000_000n);
    expect(formatUsd(total)).toBe(formatUsd(one.amount * 1_000_000n));
  });
});

describe('money', () => {
  it('converts prices exactly', () => {
    expect(picodollarsPerToken(0.075)).toBe(75_000n);
    expect(picodollarsPerToken(0.000001)).toBe(1n);
    expect(() => picodollarsPerToken(-1)).toThrow(RangeError);
  });

  it('formats, compares and rounds to cents', () => {
    expect(formatUsd(0n)).toBe('0.00');
    expect(formatUsd(PICODOLLARS_PER_USD * 12n + PICODOLLARS_PER_USD / 2n)).toBe('12.50');
    expect(formatUsd(-375_000_000n)).toBe('-0.000375');
    expect(compareMoney(1n, 2n)).toBe(-1);
    expect(compareMoney(2n, 2n)).toBe(0);
    const cent = 10_000_000_000n;
    expect([toCents(cent * 3n + cent / 2n), toCents(cent * 3n + cent / 2n - 1n), toCents(1n, 'ceil'), toCents(cent - 1n, 'floor')]).toEqual([4n, 3n, 1n, 0n]);
    expect([toCents(-(cent + cent / 2n)), toCents(-1n, 'floor'), toCents(-1n, 'ceil')]).toEqual([-2n, -1n, 0n]);
  });
});
