import type { EffectiveCatalog } from './catalog-merge.js';
import { canonicalModelId } from './catalog-models.js';
import type { PriceEntry } from './catalog-schema.js';
import { addMoney, picodollarsPerToken, type Picodollars } from './money.js';

/**
 * What a Gemini call costs, exactly, from its usageMetadata. Google's rules:
 * - promptTokenCount includes the cached tokens: those are billed at the
 *   cached price, the rest of the prompt at the input price;
 * - thinking tokens are billed as output ("Output price (including thinking
 *   tokens)"), and candidatesTokenCount does not include them;
 * - the pricing page quotes long-context models per request as "prompts <=
 *   200k tokens" / "prompts > 200k tokens": the prompt size of the call picks
 *   the row, and that row prices every token of the call (input, cached and
 *   output alike).
 * A model without a cached price bills cached tokens at its input price.
 */
export type PriceBook = ReadonlyMap<string, PriceEntry>;

/** Model and alias ids -> price entry, for every model some layer prices. */
export function priceBook(catalog: EffectiveCatalog): PriceBook {
  const book = new Map<string, PriceEntry>();
  for (const [id, m] of catalog.models) if (m.prices) book.set(id, m.prices.value);
  for (const [alias, target] of catalog.aliases) {
    const entry = book.get(target.value);
    if (entry) book.set(alias, entry);
  }
  return book;
}

export interface TokenUsage {
  /** usageMetadata.promptTokenCount (cached tokens included) */
  promptTokens: number;
  /** usageMetadata.candidatesTokenCount */
  candidatesTokens: number;
  /** usageMetadata.thoughtsTokenCount */
  thoughtsTokens?: number;
  /** usageMetadata.cachedContentTokenCount */
  cachedTokens?: number;
}

export interface AttemptCost {
  amount: Picodollars;
  /** false: no layer prices the model; amount is 0 and must not be billed as free */
  priced: boolean;
  /** the long-context row applied */
  longContext: boolean;
  parts: { input: Picodollars; cachedInput: Picodollars; output: Picodollars };
}

interface Rates {
  input: number;
  output: number;
  cachedInput?: number | undefined;
  longContext?: { aboveTokens: number; input: number; output: number; cachedInput?: number | undefined } | undefined;
}

/** The price row in force on a Pacific day ('YYYY-MM-DD'); without a day, the entry's first row. */
export function pricesOn(entry: PriceEntry, day?: string): Rates {
  if (day === undefined) return entry;
  let row: Rates = entry;
  for (const change of entry.changes ?? []) if (change.from <= day) row = change;
  return row;
}

/** Usage metadata is upstream data: negative, fractional or missing counts become whole, non-negative ones. */
const count = (v: number | undefined): number => (v !== undefined && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0);

const ZERO: AttemptCost = Object.freeze({ amount: 0n, priced: false, longContext: false, parts: Object.freeze({ input: 0n, cachedInput: 0n, output: 0n }) });

/**
 * The exact cost of one call. Pass `day` (the call's Pacific day) so a dated
 * price change applies from its first day; without it the entry's first row
 * is used.
 */
export function attemptCost(prices: PriceBook, model: string, usage: TokenUsage, options: { day?: string } = {}): AttemptCost {
  const entry = prices.get(canonicalModelId(model));
  if (!entry) return { ...ZERO, parts: { ...ZERO.parts } };
  const base = pricesOn(entry, options.day);
  const prompt = count(usage.promptTokens);
  const cached = Math.min(count(usage.cachedTokens), prompt);
  const long = base.longContext !== undefined && prompt > base.longContext.aboveTokens;
  const row = long && base.longContext ? base.longContext : base;
  const input = BigInt(prompt - cached) * picodollarsPerToken(row.input);
  const cachedInput = BigInt(cached) * picodollarsPerToken(row.cachedInput ?? row.input);
  const output = BigInt(count(usage.candidatesTokens) + count(usage.thoughtsTokens)) * picodollarsPerToken(row.output);
  return { amount: addMoney(input, cachedInput, output), priced: true, longContext: long, parts: { input, cachedInput, output } };
}
