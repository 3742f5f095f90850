import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { catalogSectionSchema, parseCatalogDoc, parseCatalogText } from '../../src/core/catalog-schema.js';

function problems(doc: unknown): string[] {
  try {
    parseCatalogDoc(doc, 'test catalog');
  } catch (err) {
    if (err instanceof ValidationError) return [...err.issues];
    throw err;
  }
  return [];
}

describe('catalog document validation', () => {
  it('accepts a partial layer (only what it changes)', () => {
    expect(problems({ models: { 'gemini-2.5-pro': { limits: { tier2: { rpm: 1200, source: 'estimate: our AI Studio page' } } } } })).toEqual([]);
    expect(problems({})).toEqual([]);
  });

  it('lists every problem with its path', () => {
    const found = problems({
      models: {
        'models/x': {},
        good: {
          limits: { free: { rpm: 1.5, source: 'ok source' }, tier9: { rpm: 1, source: 'ok source' }, tier1: { source: 'no numbers' } },
          prices: { input: 0.1234567, output: -1, source: 'x', changes: [{ from: '2027-02-30', input: 1, output: 2, source: 'ok source' }] },
          lifecycle: { status: 'retired', source: 'ok source' },
        },
      },
      aliases: { good: { model: 'good', source: 'ok source' }, self: { model: 'self', source: 'ok source' } },
      extra: true,
    });
    const expected: Array<[string, RegExp]> = [
      ['models.models/x', /without "models\/"/],
      ['models.good.limits.free.rpm', /whole number/],
      ['models.good.limits', /"tier9"/],
      ['models.good.limits.tier1', /at least one of rpm, tpm, rpd/],
      ['models.good.prices.input', /at most 6 decimal places/],
      ['models.good.prices.output', /negative/],
      ['models.good.prices.source', /say where the numbers came from/],
      ['models.good.prices.changes.0.from', /calendar date/],
      ['models.good.lifecycle.status', /./],
      ['aliases.good', /either a model or an alias/],
      ['aliases.self.model', /itself/],
      ['(root)', /extra/],
    ];
    for (const [path, message] of expected) {
      expect(found.some((p) => p.startsWith(`${path}: `) && message.test(p)), `${path} in\n${found.join('\n')}`).toBe(true);
    }
  });

  it('wants price changes oldest first', () => {
    const doc = { models: { m: { prices: { input: 1, output: 2, source: 'ok source', changes: [
      { from: '2027-02-01', input: 1, output: 2, source: 'ok source' },
      { from: '2027-01-01', input: 1, output: 2, source: 'ok source' },
    ] } } } };
    expect(problems(doc)).toEqual([expect.stringMatching(/^models\.m\.prices\.changes: .*oldest first/)]);
  });

  it('reads "unlimited" daily requests and JSON text, naming the file in errors', () => {
    expect(catalogSectionSchema.parse({ models: { m: { limits: { tier3: { rpd: 'unlimited', source: 'ok source' } } } } }).models?.['m']?.limits?.tier3?.rpd).toBe('unlimited');
    expect(() => parseCatalogText('{ nope', '/etc/catalog.json')).toThrow(/\/etc\/catalog\.json is not valid JSON/);
  });
});
