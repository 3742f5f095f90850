import { gte, lt, sql } from 'drizzle-orm';
import type { UsageEvent } from '../../app/ports.js';
import type { Database } from './db.js';
import { tenantUsageDaily, usageEvents } from './schema.js';

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

/**
 * Inserts the events in one multi-row statement and adds them to the
 * per-tenant daily totals, in one transaction: the totals always equal the
 * events written. An empty batch is a no-op.
 */
export async function recordUsage(db: Database, events: readonly UsageEvent[]): Promise<void> {
  if (events.length === 0) return;
  const totals = new Map<string, typeof tenantUsageDaily.$inferInsert>();
  for (const e of events) {
    const id = JSON.stringify([e.tenantId, e.day, e.model, e.central]);
    const t = totals.get(id) ?? { tenantId: e.tenantId, day: e.day, model: e.model, central: e.central, requests: 0, successes: 0, promptTokens: 0, candidatesTokens: 0, thoughtsTokens: 0, cachedTokens: 0, totalTokens: 0, costPico: 0n };
    t.requests = (t.requests ?? 0) + 1;
    t.successes = (t.successes ?? 0) + (e.outcome === 'success' ? 1 : 0);
    t.promptTokens = (t.promptTokens ?? 0) + e.promptTokens;
    t.candidatesTokens = (t.candidatesTokens ?? 0) + e.candidatesTokens;
    t.thoughtsTokens = (t.thoughtsTokens ?? 0) + e.thoughtsTokens;
    t.cachedTokens = (t.cachedTokens ?? 0) + e.cachedTokens;
    t.totalTokens = (t.totalTokens ?? 0) + e.totalTokens;
    t.costPico = (t.costPico ?? 0n) + e.costPico;
    totals.set(id, t);
  }
  const add = (c: keyof typeof tenantUsageDaily.$inferInsert & string) => sql.raw(`"tenant_usage_daily"."${snake(c)}" + excluded."${snake(c)}"`);
  await db.transaction(async (tx) => {
    await tx.insert(usageEvents).values(events.map((e) => ({ ...e })));
    await tx
      .insert(tenantUsageDaily)
      .values([...totals.values()])
      .onConflictDoUpdate({
        target: [tenantUsageDaily.tenantId, tenantUsageDaily.day, tenantUsageDaily.model, tenantUsageDaily.central],
        set: {
          requests: add('requests'),
          successes: add('successes'),
          promptTokens: add('promptTokens'),
          candidatesTokens: add('candidatesTokens'),
          thoughtsTokens: add('thoughtsTokens'),
          cachedTokens: add('cachedTokens'),
          totalTokens: add('totalTokens'),
          costPico: add('costPico'),
          updatedAt: sql`now()`,
        },
      });
  });
}

const snake = (c: string): string => c.replace(/[A-Z]/g, (m) => `_${m.toLowerCase()}`);

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
