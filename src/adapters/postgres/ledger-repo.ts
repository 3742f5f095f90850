import { and, eq, gt, sql } from 'drizzle-orm';
import type { Database } from './db.js';
import { rpdLedger } from './schema.js';

/**
 * The daily request ledger (RPD). Every change is ONE conditional statement,
 * so concurrent workers can never push a (project, model, day) past its limit.
 */
export interface RpdScope {
  projectId: string;
  model: string;
  day: string;
}

/** Reserves one request of the day; returns the new used count, or null when `limit` is reached (never exceeds it). */
export async function reserveRpd(db: Database, scope: RpdScope & { limit: number }): Promise<number | null> {
  // setWhere guards only the update path: the first insert would write 1 regardless.
  if (scope.limit < 1) return null;
  const rows = await db
    .insert(rpdLedger)
    .values({ projectId: scope.projectId, model: scope.model, day: scope.day, used: 1 })
    .onConflictDoUpdate({
      target: [rpdLedger.projectId, rpdLedger.model, rpdLedger.day],
      set: { used: sql`${rpdLedger.used} + 1`, updatedAt: sql`now()` },
      setWhere: sql`${rpdLedger.used} < ${scope.limit}`,
    })
    .returning({ used: rpdLedger.used });
  return rows[0]?.used ?? null;
}

/** Gives back one reservation whose call was never made; one statement, never below zero. */
export async function refundRpd(db: Database, scope: RpdScope): Promise<void> {
  await db
    .update(rpdLedger)
    .set({ used: sql`${rpdLedger.used} - 1`, updatedAt: sql`now()` })
    .where(
      and(
        eq(rpdLedger.projectId, scope.projectId),
        eq(rpdLedger.model, scope.model),
        eq(rpdLedger.day, scope.day),
        gt(rpdLedger.used, 0),
      ),
    );
}

/** Requests reserved on `day`, per (project, model). */
export async function rpdUsage(db: Database, day: string): Promise<Array<{ projectId: string; model: string; used: number }>> {
  return db
    .select({ projectId: rpdLedger.projectId, model: rpdLedger.model, used: rpdLedger.used })
    .from(rpdLedger)
    .where(eq(rpdLedger.day, day))
    .orderBy(rpdLedger.projectId, rpdLedger.model);
}
