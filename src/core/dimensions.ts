import { DIMENSIONS, type Dimension } from './types.js';

/**
 * Limit dimensions as data. A dimension is counted over a period (a sliding
 * minute, kept in Redis by the admission script, or a quota day, kept in the
 * Postgres ledger) and measures either requests or input tokens. Adding a
 * dimension is a new entry here plus, for a new period, one adapter.
 */
export type Period = 'minute' | 'day';
export type Measure = 'requests' | 'inputTokens';

export interface DimensionSpec {
  id: Dimension;
  period: Period;
  measure: Measure;
  /** what operators read in status and on the dashboard */
  label: string;
}

export const DIMENSION_SPECS = Object.freeze({
  rpm: { id: 'rpm', period: 'minute', measure: 'requests', label: 'requests per minute' },
  tpm: { id: 'tpm', period: 'minute', measure: 'inputTokens', label: 'input tokens per minute' },
  rpd: { id: 'rpd', period: 'day', measure: 'requests', label: 'requests per day' },
} as const satisfies Record<Dimension, DimensionSpec>);

/** The dimensions counted over a sliding minute (Redis); the others are per quota day (the ledger). */
export type WindowDimension = { [K in Dimension]: (typeof DIMENSION_SPECS)[K]['period'] extends 'minute' ? K : never }[Dimension];

export const isWindowDimension = (d: Dimension): d is WindowDimension => DIMENSION_SPECS[d].period === 'minute';

/** The sliding-minute dimensions, in a fixed order (the admission script receives them positionally). */
export const WINDOW_DIMENSIONS: readonly WindowDimension[] = Object.freeze(DIMENSIONS.filter(isWindowDimension));

export type WindowValues = Readonly<Record<WindowDimension, number>>;

function byWindowDimension(value: (d: WindowDimension, i: number) => number): WindowValues {
  const out = {} as Record<WindowDimension, number>;
  WINDOW_DIMENSIONS.forEach((d, i) => (out[d] = value(d, i)));
  return out;
}

/** What one call costs in each sliding-minute dimension. */
export function windowCosts(inputTokens: number): WindowValues {
  return byWindowDimension((d) => (DIMENSION_SPECS[d].measure === 'requests' ? 1 : inputTokens));
}

/** Values of a record in WINDOW_DIMENSIONS order. */
export function windowVector(values: WindowValues): number[] {
  return WINDOW_DIMENSIONS.map((d) => values[d]);
}

/** A window-dimension record from values in WINDOW_DIMENSIONS order (missing values are 0). */
export function windowRecord(values: readonly number[]): WindowValues {
  return byWindowDimension((_d, i) => values[i] ?? 0);
}

/** The limits of the window dimensions, taken from a full set of limits. */
export function windowLimits(limits: Readonly<Record<Dimension, number>>): WindowValues {
  return byWindowDimension((d) => limits[d]);
}
