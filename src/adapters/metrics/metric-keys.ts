/**
 * The Redis layout of the shared metric counters: one hash per family under
 * `${prefix}:metrics:*`, fields are label values joined by '|' (which no
 * fleet id or model id may contain). Writers (workers) and the reader (the
 * API's /metrics) agree on it through this file only.
 */
export const FAMILIES = ['upstream', 'tokens', 'latency', 'switches', 'jobs'] as const;
export type Family = (typeof FAMILIES)[number];

export const SEP = '|';

/** Upper bounds (seconds) of the upstream latency histogram buckets; +Inf is implicit. */
export const LATENCY_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] as const;

/** Label set used when a process has seen too many distinct label sets (bounded field count). */
export const OVERFLOW = '_other';

export function metricsKey(prefix: string, family: Family): string {
  return `${prefix}:metrics:${family}`;
}

export function field(...labels: Array<string | number | boolean>): string {
  return labels.map((l) => String(l).split(SEP).join('_')).join(SEP);
}

export function splitField(f: string): string[] {
  return f.split(SEP);
}

/** Index of the bucket an observation falls in (LATENCY_BUCKETS.length = +Inf). */
export function bucketOf(seconds: number): number {
  const i = LATENCY_BUCKETS.findIndex((le) => seconds <= le);
  return i === -1 ? LATENCY_BUCKETS.length : i;
}
