import { gte, lt, sql } from 'drizzle-orm';
import type { UsageEvent } from '../../app/ports.js';
import type { Database } from './db.js';
import { usageEvents } from './schema.js';

/**
 * Usage events: one row per upstream call, written in batches, summed for
 * the dashboard and trimmed by the maintenance worker.
 */
export interface UsageTotal {
  projectId: string;
  model: string;
  keyId: string;
  /** upstream calls */
  requests: number;
  /** calls whose outcome was 'success' */
  successes: number;
  promptTokens: number;
  candidatesTokens: number;
  totalTokens: number;
}

/** Inserts all events in one multi-row statement; an empty batch is a no-op. */
export async function recordUsage(db: Database, events: readonly UsageEvent[]): Promise<void> {
  if (events.length === 0) return;
  await db.insert(usageEvents).values(events.map((e) => ({ ...e })));
}

/** Sums of usage since `since`, per (project, model, key). */
export async function usageTotals(db: Database, opts: { since: Date }): Promise<UsageTotal[]> {
  // count/sum come back as bigint/numeric strings from Postgres: cast to int for plain numbers.
  return db
    .select({
      projectId: usageEvents.projectId,
      model: usageEvents.model,
      keyId: usageEvents.keyId,
      requests: sql<number>`count(*)::int`,
      successes: sql<number>`(count(*) filter (where ${usageEvents.outcome} = 'success'))::int`,
      promptTokens: sql<number>`coalesce(sum(${usageEvents.promptTokens}), 0)::bigint::float8`,
      candidatesTokens: sql<number>`coalesce(sum(${usageEvents.candidatesTokens}), 0)::bigint::float8`,
      totalTokens: sql<number>`coalesce(sum(${usageEvents.totalTokens}), 0)::bigint::float8`,
    })
    .from(usageEvents)
    .where(gte(usageEvents.at, opts.since))
    .groupBy(usageEvents.projectId, usageEvents.model, usageEvents.keyId)
    .orderBy(usageEvents.projectId, usageEvents.model, usageEvents.keyId);
}

/** Deletes events older than `before`; returns how many were deleted. */
export async function deleteUsageBefore(db: Database, before: Date): Promise<number> {
  const rows = await db.delete(usageEvents).where(lt(usageEvents.at, before)).returning({ id: usageEvents.id });
  return rows.length;
}
