import { inArray } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Database } from './db.js';

/**
 * Rows per statement when a fleet is written. Postgres takes at most 65,535
 * parameters per statement; the widest fleet row (a key, 9 columns) times
 * this stays far below, and big fleets are written in a few dozen statements.
 */
export const BATCH_ROWS = 1000;

/** Runs `write` on consecutive slices of `rows` (in order, one statement each). */
export async function inBatches<T>(rows: readonly T[], write: (batch: T[]) => Promise<unknown>, size = BATCH_ROWS): Promise<void> {
  for (let i = 0; i < rows.length; i += size) await write(rows.slice(i, i + size));
}

/** `delete from table where column in (...)`, in batches. */
export async function deleteByIds(db: Database, table: PgTable, column: PgColumn, ids: readonly string[]): Promise<void> {
  await inBatches(ids, (batch) => db.delete(table).where(inArray(column, batch)));
}
