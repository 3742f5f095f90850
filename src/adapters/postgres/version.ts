import { eq, sql } from 'drizzle-orm';
import type { Database } from './db.js';
import { settings } from './schema.js';

/**
 * The fleet version: a monotonically increasing integer (stored as a JSON
 * string) that workers compare to know when to reload the fleet.
 */
export const FLEET_VERSION_KEY = 'fleet_version';
export const MODELS_KEY = 'models';
/** the fleet file's catalog section (a catalog layer), absent when the file has none */
export const CATALOG_KEY = 'catalog';

/** Increments the fleet version in one statement (no read-modify-write) and returns the new value. */
export async function bumpFleetVersion(db: Database): Promise<string> {
  const rows = await db
    .insert(settings)
    .values({ key: FLEET_VERSION_KEY, value: '1' })
    .onConflictDoUpdate({
      target: settings.key,
      set: { value: sql`to_jsonb((((${settings.value} #>> '{}')::bigint) + 1)::text)` },
    })
    .returning({ value: settings.value });
  return asVersion(rows[0]?.value);
}

/** The stored fleet version; '0' before anything was applied. */
export async function readFleetVersion(db: Database): Promise<string> {
  const rows = await db.select({ value: settings.value }).from(settings).where(eq(settings.key, FLEET_VERSION_KEY));
  return asVersion(rows[0]?.value);
}

function asVersion(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '0';
}
