import { and, eq, gte, inArray, lt, lte, sql, type SQL } from 'drizzle-orm';
import type { UsageEvent } from '../../app/ports.js';
import type { DaySelection, TenantDayUsage, TenantUsageTotal } from '../../app/stores.js';
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
    // the rows travel as one JSON parameter: building a 17-column multi-row insert value by value
    // costs the worker more CPU than the rest of a job's bookkeeping
    await tx.execute(sql`insert into usage_events (${sql.raw(EVENT_COLUMNS.join(', '))}) select ${sql.raw(EVENT_COLUMNS.join(', '))} from json_populate_recordset(null::usage_events, ${eventRows(events)}::json)`);
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

const EVENT_FIELDS = ['at', 'jobId', 'tenantId', 'keyId', 'projectId', 'model', 'outcome', 'status', 'promptTokens', 'candidatesTokens', 'totalTokens', 'thoughtsTokens', 'cachedTokens', 'latencyMs', 'central', 'day', 'costPico'] as const satisfies ReadonlyArray<keyof UsageEvent>;
const EVENT_COLUMNS = EVENT_FIELDS.map(snake);

/** The events as a JSON array of rows named by column (the cost as a string: it is a bigint). */
function eventRows(events: readonly UsageEvent[]): string {
  return JSON.stringify(
    events.map((e) => {
      const row: Record<string, unknown> = {};
      for (let i = 0; i < EVENT_FIELDS.length; i++) {
        const f = EVENT_FIELDS[i] as (typeof EVENT_FIELDS)[number];
        const v = e[f];
        row[EVENT_COLUMNS[i] as string] = typeof v === 'bigint' ? v.toString() : v;
      }
      return row;
    }),
  );
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


const daysWhere = (sel: DaySelection): SQL | undefined =>
  'days' in sel ? (sel.days.length ? inArray(tenantUsageDaily.day, [...sel.days]) : sql`false`) : and(gte(tenantUsageDaily.day, sel.from), lte(tenantUsageDaily.day, sel.to));

const tenantSums = {
  requests: sql<number>`coalesce(sum(${tenantUsageDaily.requests}), 0)::float8`,
  successes: sql<number>`coalesce(sum(${tenantUsageDaily.successes}), 0)::float8`,
  promptTokens: sql<number>`coalesce(sum(${tenantUsageDaily.promptTokens}), 0)::float8`,
  candidatesTokens: sql<number>`coalesce(sum(${tenantUsageDaily.candidatesTokens}), 0)::float8`,
  thoughtsTokens: sql<number>`coalesce(sum(${tenantUsageDaily.thoughtsTokens}), 0)::float8`,
  cachedTokens: sql<number>`coalesce(sum(${tenantUsageDaily.cachedTokens}), 0)::float8`,
  totalTokens: sql<number>`coalesce(sum(${tenantUsageDaily.totalTokens}), 0)::float8`,
  // a sum of bigints is numeric: read it as text so no picodollar is lost on the way
  costPico: sql<string>`coalesce(sum(${tenantUsageDaily.costPico}), 0)::text`,
};

const withCost = <T extends { costPico: string }>(rows: T[]): Array<Omit<T, 'costPico'> & { costPico: bigint }> => rows.map((r) => ({ ...r, costPico: BigInt(r.costPico) }));

/** A tenant's (or every tenant's) daily totals per model and key kind, on the selected days, oldest first. */
export async function tenantUsageDays(db: Database, opts: { tenantId?: string; days: DaySelection }): Promise<TenantDayUsage[]> {
  const rows = await db
    .select({ tenantId: tenantUsageDaily.tenantId, day: tenantUsageDaily.day, model: tenantUsageDaily.model, central: tenantUsageDaily.central, ...tenantSums })
    .from(tenantUsageDaily)
    .where(and(daysWhere(opts.days), opts.tenantId === undefined ? undefined : eq(tenantUsageDaily.tenantId, opts.tenantId)))
    .groupBy(tenantUsageDaily.tenantId, tenantUsageDaily.day, tenantUsageDaily.model, tenantUsageDaily.central)
    .orderBy(tenantUsageDaily.day, tenantUsageDaily.tenantId, tenantUsageDaily.model, tenantUsageDaily.central);
  return withCost(rows);
}

/** Every tenant's totals on the selected days, own and central keys apart. */
export async function tenantUsageTotals(db: Database, days: DaySelection): Promise<TenantUsageTotal[]> {
  const rows = await db
    .select({ tenantId: tenantUsageDaily.tenantId, central: tenantUsageDaily.central, ...tenantSums })
    .from(tenantUsageDaily)
    .where(daysWhere(days))
    .groupBy(tenantUsageDaily.tenantId, tenantUsageDaily.central)
    .orderBy(tenantUsageDaily.tenantId, tenantUsageDaily.central);
  return withCost(rows);
}

/** What each tenant has cost so far, over every day kept (the daily totals are never trimmed). */
export async function tenantCostTotals(db: Database): Promise<Array<{ tenantId: string; costPico: bigint }>> {
  const rows = await db
    .select({ tenantId: tenantUsageDaily.tenantId, costPico: tenantSums.costPico })
    .from(tenantUsageDaily)
    .groupBy(tenantUsageDaily.tenantId)
    .orderBy(tenantUsageDaily.tenantId);
  return withCost(rows);
}
