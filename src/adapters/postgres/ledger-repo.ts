import { and, eq, gt, sql } from 'drizzle-orm';
import { RPD_BLOCK, rpdBlockSize, type RpdBlockParams } from '../../core/rpd-block.js';
import type { Database } from './db.js';
import { rpdLedger } from './schema.js';

/**
 * The daily request ledger (RPD). Every change is ONE conditional statement,
 * so concurrent workers can never push a (project, model, day) past its limit.
 * `used` counts requests reserved: workers reserve blocks (reserveRpdBlock)
 * into a shared pool and spend them from there, so a row may hold requests
 * not spent yet (see core/rpd-block.ts).
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
    .values({ projectId: scope.projectId, model: scope.model, day: scope.day, used: 1, lastGrant: 1 })
    .onConflictDoUpdate({
      target: [rpdLedger.projectId, rpdLedger.model, rpdLedger.day],
      set: { used: sql`${rpdLedger.used} + 1`, lastGrant: 1, updatedAt: sql`now()` },
      setWhere: sql`${rpdLedger.used} < ${scope.limit}`,
    })
    .returning({ used: rpdLedger.used });
  return rows[0]?.used ?? null;
}

/**
 * Reserves a block of the day's requests in ONE statement: grants
 * rpdBlockSize(limit, used) computed on the locked row (min(max, left /
 * spread, left), at least 1 while anything is left) and says how many it
 * granted; 0 when the day is full. Never takes `used` past `limit`,
 * whatever the concurrency.
 */
export async function reserveRpdBlock(db: Database, scope: RpdScope & { limit: number }, p: RpdBlockParams = RPD_BLOCK): Promise<{ granted: number; used: number }> {
  const limit = Math.floor(scope.limit);
  if (limit < 1) return { granted: 0, used: 0 };
  const first = rpdBlockSize(limit, 0, p);
  const left = sql`(${limit}::integer - ${rpdLedger.used})`;
  const grant = sql`least(${p.max}::integer, greatest(1, ${left} / ${p.spread}::integer), ${left})`;
  const rows = await db
    .insert(rpdLedger)
    .values({ projectId: scope.projectId, model: scope.model, day: scope.day, used: first, lastGrant: first })
    .onConflictDoUpdate({
      target: [rpdLedger.projectId, rpdLedger.model, rpdLedger.day],
      set: { used: sql`${rpdLedger.used} + ${grant}`, lastGrant: grant, updatedAt: sql`now()` },
      setWhere: sql`${rpdLedger.used} < ${limit}::integer`,
    })
    .returning({ used: rpdLedger.used, granted: rpdLedger.lastGrant });
  const row = rows[0];
  return row ? { granted: row.granted, used: row.used } : { granted: 0, used: limit };
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
