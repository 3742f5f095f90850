import { and, count, eq, gte, sql } from 'drizzle-orm';
import type { OutcomeBucket } from '../../core/key-health.js';
import type { Database } from './db.js';
import { settings, usageEvents } from './schema.js';
import { bumpFleetVersion } from './version.js';

/** Outcome counts per key per minute since `since` (one statement). */
export async function keyOutcomeBuckets(db: Database, since: Date): Promise<OutcomeBucket[]> {
  const minute = sql<string>`date_trunc('minute', ${usageEvents.at})`;
  const rows = await db
    .select({ keyId: usageEvents.keyId, minute, outcome: usageEvents.outcome, n: count() })
    .from(usageEvents)
    .where(and(gte(usageEvents.at, since)))
    .groupBy(usageEvents.keyId, minute, usageEvents.outcome);
  return rows.map((r) => ({ keyId: r.keyId, at: new Date(r.minute).getTime(), outcome: r.outcome, count: Number(r.n) }));
}

export const DEMOTED_KEY = 'demoted_keys';

/** Key ids currently demoted by dynamic priority. */
export async function loadDemotions(db: Database): Promise<string[]> {
  const rows = await db.select({ value: settings.value }).from(settings).where(eq(settings.key, DEMOTED_KEY));
  const v = rows[0]?.value;
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** Stores the demoted set; bumps the fleet version only when it changed. True when it changed. */
export async function saveDemotions(db: Database, ids: readonly string[]): Promise<boolean> {
  const next = [...new Set(ids)].sort();
  const current = (await loadDemotions(db)).sort();
  if (JSON.stringify(next) === JSON.stringify(current)) return false;
  await db.transaction(async (tx) => {
    await tx.insert(settings).values({ key: DEMOTED_KEY, value: next }).onConflictDoUpdate({ target: settings.key, set: { value: next } });
    await bumpFleetVersion(tx);
  });
  return true;
}
