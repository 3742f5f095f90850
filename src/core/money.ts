/**
 * Money as an exact integer: a bigint count of picodollars (1 pUSD = 1e-12
 * USD). Prices are USD per 1M tokens with at most 6 decimals, so a price is a
 * whole number of picodollars per token (USD per 1M × 1e6) and a call's cost
 * is a sum of integer products: no floating point, no rounding until a total
 * is turned into cents.
 */
export type Picodollars = bigint;

export const PICODOLLARS_PER_USD = 1_000_000_000_000n;
export const PICODOLLARS_PER_CENT = 10_000_000_000n;

/** USD per 1M tokens -> picodollars per token; exact for the prices the catalog schema admits (≤ 6 decimals). */
export function picodollarsPerToken(usdPerMillion: number): Picodollars {
  const scaled = Math.round(usdPerMillion * 1e6);
  if (!Number.isSafeInteger(scaled) || scaled < 0) throw new RangeError(`not a price in USD per 1M tokens: ${usdPerMillion}`);
  return BigInt(scaled);
}

export function addMoney(...amounts: Picodollars[]): Picodollars {
  return amounts.reduce((sum, a) => sum + a, 0n);
}

export function compareMoney(a: Picodollars, b: Picodollars): -1 | 0 | 1 {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Exact decimal USD: "0.000375", "12.50", "-1.00"; at least two decimals, no trailing zeros beyond them. */
export function formatUsd(amount: Picodollars): string {
  const negative = amount < 0n;
  const abs = negative ? -amount : amount;
  const whole = abs / PICODOLLARS_PER_USD;
  const fraction = (abs % PICODOLLARS_PER_USD).toString().padStart(12, '0').replace(/0+$/, '').padEnd(2, '0');
  return `${negative ? '-' : ''}${whole}.${fraction}`;
}

export type CentRounding = 'floor' | 'ceil' | 'round';

/** Whole cents; 'round' is half away from zero. Choose 'ceil' to never bill less than the cost. */
export function toCents(amount: Picodollars, rounding: CentRounding = 'round'): bigint {
  const q = amount / PICODOLLARS_PER_CENT;
  const r = amount % PICODOLLARS_PER_CENT;
  if (r === 0n) return q;
  switch (rounding) {
    case 'floor':
      return r > 0n ? q : q - 1n;
    case 'ceil':
      return r > 0n ? q + 1n : q;
    case 'round': {
      const twice = 2n * (r < 0n ? -r : r);
      if (twice < PICODOLLARS_PER_CENT) return q;
      return r > 0n ? q + 1n : q - 1n;
    }
  }
}
