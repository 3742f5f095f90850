/**
 * Dynamic priority: a key whose recent success rate falls is demoted
 * behind the keys of its model that work; once it recovers it is restored.
 * Hysteresis (demote below 80 %, restore above 95 %) keeps a key from
 * flapping. Only failures that say something about the key or its route
 * count; quota refusals and bad requests do not.
 */
export const HEALTH = {
  demoteBelow: 0.8,
  restoreAbove: 0.95,
  /** fewer weighted calls than this: no verdict, keep the current state */
  minSamples: 10,
  halfLifeMs: 10 * 60_000,
} as const;

/** Added to a demoted key's priority: after every healthy key of the model, before the next model. */
export const DEMOTION_STEP = 10_000;

const COUNTS_AGAINST = new Set(['overloaded', 'internal', 'timeout', 'network', 'key_invalid', 'key_forbidden']);

export interface OutcomeBucket {
  keyId: string;
  /** start of the bucket, epoch ms */
  at: number;
  outcome: string;
  count: number;
}

export interface KeyHealth {
  keyId: string;
  /** exponentially decayed success rate, null when there are too few samples */
  rate: number | null;
  samples: number;
}

/** Decayed success rate per key from outcome counts. Pure. */
export function keyHealth(buckets: readonly OutcomeBucket[], nowMs: number, halfLifeMs: number = HEALTH.halfLifeMs): KeyHealth[] {
  const acc = new Map<string, { ok: number; all: number }>();
  for (const b of buckets) {
    const relevant = b.outcome === 'success' || COUNTS_AGAINST.has(b.outcome);
    if (!relevant) continue;
    const w = 0.5 ** (Math.max(0, nowMs - b.at) / halfLifeMs);
    const a = acc.get(b.keyId) ?? { ok: 0, all: 0 };
    a.all += w * b.count;
    if (b.outcome === 'success') a.ok += w * b.count;
    acc.set(b.keyId, a);
  }
  return [...acc].map(([keyId, a]) => ({ keyId, samples: a.all, rate: a.all >= HEALTH.minSamples ? a.ok / a.all : null }));
}

/** The demoted set after this evaluation. Pure. */
export function nextDemotions(current: ReadonlySet<string>, health: readonly KeyHealth[]): Set<string> {
  const next = new Set(current);
  for (const h of health) {
    if (h.rate === null) continue;
    if (h.rate < HEALTH.demoteBelow) next.add(h.keyId);
    else if (h.rate > HEALTH.restoreAbove) next.delete(h.keyId);
  }
  return next;
}
