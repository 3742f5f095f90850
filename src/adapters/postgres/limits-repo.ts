import { sql } from 'drizzle-orm';
import type { Dimension } from '../../core/types.js';
import type { Database } from './db.js';
import { modelLimits } from './schema.js';
import { bumpFleetVersion } from './version.js';

/**
 * Limits learned from 429 answers (Google said what the quota really is).
 * They outrank configured limits and survive re-applying the fleet file.
 */
export interface LearnedLimitInput {
  projectId: string;
  model: string;
  dimension: Dimension;
  value: number;
}

/** Stores a learned limit; returns true (and bumps the fleet version) only when the value changed. */
export async function recordLearnedLimit(db: Database, l: LearnedLimitInput): Promise<boolean> {
  return db.transaction(async (tx) => {
    const rows = await tx
      .insert(modelLimits)
      .values({ projectId: l.projectId, model: l.model, dimension: l.dimension, source: 'learned', value: l.value })
      .onConflictDoUpdate({
        target: [modelLimits.projectId, modelLimits.model, modelLimits.dimension, modelLimits.source],
        set: { value: l.value, updatedAt: sql`now()` },
        setWhere: sql`${modelLimits.value} <> ${l.value}`,
      })
      .returning({ value: modelLimits.value });
    if (rows.length === 0) return false;
    await bumpFleetVersion(tx);
    return true;
  });
}
