import { and, eq, isNotNull, isNull, lte, or, gt, sql } from 'drizzle-orm';
import type { Exclusion } from '../../app/stores.js';
import type { Database } from './db.js';

export type { Exclusion };
import { scopeExclusions } from './schema.js';
import { bumpFleetVersion } from './version.js';

/**
 * Persisted (project, model) exclusions: day exclusions survive restarts,
 * `model_not_found` ones are part of the fleet (`unsupported`), so changing
 * them bumps the fleet version and every worker reloads.
 */
export const MODEL_NOT_FOUND = 'model_not_found';


/** Creates or extends an exclusion; bumps the fleet version when a model_not_found exclusion is new or changed. */
export async function upsertExclusion(db: Database, e: Exclusion): Promise<void> {
  await db.transaction(async (tx) => {
    const rows = await tx
      .insert(scopeExclusions)
      .values(e)
      .onConflictDoUpdate({
        target: [scopeExclusions.projectId, scopeExclusions.model, scopeExclusions.reason],
        set: { until: sql`excluded.until`, detail: sql`excluded.detail` },
        // Repeated reports from several workers are no-ops, so they do not bump the version.
        setWhere: sql`${scopeExclusions.until} is distinct from excluded.until or ${scopeExclusions.detail} is distinct from excluded.detail`,
      })
      .returning({ reason: scopeExclusions.reason });
    if (rows.length > 0 && e.reason === MODEL_NOT_FOUND) await bumpFleetVersion(tx);
  });
}

/** Exclusions in force at `now` (forever, or until a later moment). */
export async function activeExclusions(db: Database, now: Date): Promise<Array<Exclusion & { createdAt: Date }>> {
  return db
    .select({
      projectId: scopeExclusions.projectId,
      model: scopeExclusions.model,
      reason: scopeExclusions.reason,
      until: scopeExclusions.until,
      detail: scopeExclusions.detail,
      createdAt: scopeExclusions.createdAt,
    })
    .from(scopeExclusions)
    .where(or(isNull(scopeExclusions.until), gt(scopeExclusions.until, now)));
}

/** Removes the exclusions of a (project, model), of one reason or all; returns how many; bumps the version if `unsupported` changed. */
export async function clearExclusion(db: Database, scope: { projectId: string; model: string; reason?: string }): Promise<number> {
  const where = and(
    eq(scopeExclusions.projectId, scope.projectId),
    eq(scopeExclusions.model, scope.model),
    scope.reason !== undefined ? eq(scopeExclusions.reason, scope.reason) : undefined,
  );
  return deleteAndAnnounce(db, where);
}

/** Removes exclusions whose `until` has passed at `now`; returns how many. */
export async function deleteExpiredExclusions(db: Database, now: Date): Promise<number> {
  return deleteAndAnnounce(db, and(isNotNull(scopeExclusions.until), lte(scopeExclusions.until, now)));
}

async function deleteAndAnnounce(db: Database, where: ReturnType<typeof and>): Promise<number> {
  return db.transaction(async (tx) => {
    const rows = await tx.delete(scopeExclusions).where(where).returning({ reason: scopeExclusions.reason });
    if (rows.some((r) => r.reason === MODEL_NOT_FOUND)) await bumpFleetVersion(tx);
    return rows.length;
  });
}
