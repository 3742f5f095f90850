import { and, eq, inArray, sql } from 'drizzle-orm';
import type { FleetSpec } from '../../core/fleet-file.js';
import { hashToken } from '../crypto/secret-box.js';
import type { Database } from './db.js';
import { deleteByIds, inBatches } from './fleet-batch.js';
import { changesOf, countsOf, diffById, fieldChange, type FleetChange, type KindCounts } from './fleet-diff.js';
import { modelLimits, projects, tenants } from './schema.js';
import { sameSettings, tenantSettings } from '../../core/tenant-settings.js';
import { DIMENSIONS, type Dimension, type TenantSettings } from '../../core/types.js';

/**
 * One step of `applyFleet` per table: read what is stored and diff it with
 * the file (the plan, all a dry run needs), then write only the differences
 * in batches. Runs inside the apply transaction.
 */
export interface Step {
  counts: KindCounts;
  changes: FleetChange[];
  /** creates and updates */
  write(): Promise<void>;
  /** deletes what the file no longer names (only when pruning); called once dependants are gone */
  prune(): Promise<void>;
}

type ProjectRow = { id: string; tier: string };
type TenantRow = { id: string; keyMode: string; models: string[] | null; tokenHash: string | null; settings: TenantSettings };
type LimitRow = { id: string; projectId: string; model: string; dimension: Dimension; value: number };

/** The file's projects plus the implicit `key:<id>` projects (tier free) of keys that name none. */
export async function planProjects(db: Database, spec: FleetSpec, prune: boolean): Promise<Step> {
  const desired = new Map<string, ProjectRow>(spec.projects.map((p) => [p.id, { id: p.id, tier: p.tier }]));
  for (const k of spec.keys) if (!desired.has(k.project)) desired.set(k.project, { id: k.project, tier: 'free' });
  const existing = new Map((await db.select({ id: projects.id, tier: projects.tier }).from(projects)).map((r) => [r.id, r]));
  const diff = diffById([...desired.values()], existing, (a, b) => a.tier === b.tier, prune);
  return {
    counts: countsOf(diff),
    changes: changesOf('projects', diff, existing, (a, b) => fieldChange('tier', a.tier, b.tier)),
    write: () =>
      inBatches([...diff.create, ...diff.update], (batch) =>
        db.insert(projects).values(batch).onConflictDoUpdate({ target: projects.id, set: { tier: sql`excluded.tier`, updatedAt: sql`now()` } }),
      ),
    prune: () => deleteByIds(db, projects, projects.id, diff.remove),
  };
}

/** Tenants (key mode, model chain, token hash); `tokens` holds each tenant's resolved token. */
export async function planTenants(db: Database, spec: FleetSpec, tokens: ReadonlyMap<string, string>, prune: boolean): Promise<Step> {
  const desired: TenantRow[] = spec.tenants.map((t) => {
    const token = tokens.get(t.id);
    return { id: t.id, keyMode: t.keyMode, models: t.models, tokenHash: token === undefined ? null : hashToken(token), settings: t.settings };
  });
  const rows = await db.select({ id: tenants.id, keyMode: tenants.keyMode, models: tenants.models, tokenHash: tenants.tokenHash, settings: tenants.settings }).from(tenants);
  const existing = new Map(rows.map((r) => [r.id, { ...r, settings: tenantSettings(r.settings) }]));
  const same = (a: TenantRow, b: TenantRow): boolean =>
    a.keyMode === b.keyMode && a.tokenHash === b.tokenHash && JSON.stringify(a.models) === JSON.stringify(b.models) && sameSettings(a.settings, b.settings);
  const diff = diffById(desired, existing, same, prune);
  const describe = (a: TenantRow, b: TenantRow): string[] => [
    ...fieldChange('keyMode', a.keyMode, b.keyMode),
    ...fieldChange('models', a.models, b.models),
    ...(sameSettings(a.settings, b.settings) ? [] : ['settings changed (weight, limits, budget or pinModel)']),
    ...(a.tokenHash === b.tokenHash ? [] : [a.tokenHash === null ? 'token set' : b.tokenHash === null ? 'token removed' : 'token changed']),
  ];
  return {
    counts: countsOf(diff),
    changes: changesOf('tenants', diff, existing, describe),
    async write() {
      // Tokens may move between tenants: clear the changed and leaving ones first so the unique index never sees a transient duplicate.
      await inBatches([...diff.update.map((t) => t.id), ...diff.remove], (ids) => db.update(tenants).set({ tokenHash: null }).where(inArray(tenants.id, ids)));
      await inBatches([...diff.create, ...diff.update], (batch) =>
        db
          .insert(tenants)
          .values(batch)
          .onConflictDoUpdate({
            target: tenants.id,
            set: { keyMode: sql`excluded.key_mode`, models: sql`excluded.models`, tokenHash: sql`excluded.token_hash`, settings: sql`excluded.settings`, updatedAt: sql`now()` },
          }),
      );
    },
    prune: () => deleteByIds(db, tenants, tenants.id, diff.remove),
  };
}

/** Configured limits; pruning removes configured limits the file no longer names (learned ones stay). */
export async function planLimits(db: Database, spec: FleetSpec, prune: boolean): Promise<Step> {
  const desired: LimitRow[] = [];
  for (const p of spec.projects) {
    for (const [model, limits] of Object.entries(p.limits)) {
      for (const dimension of DIMENSIONS) {
        const value = limits[dimension];
        if (value !== undefined) desired.push({ id: `${p.id} ${model} ${dimension}`, projectId: p.id, model, dimension, value });
      }
    }
  }
  const rows = await db
    .select({ projectId: modelLimits.projectId, model: modelLimits.model, dimension: modelLimits.dimension, value: modelLimits.value })
    .from(modelLimits)
    .where(eq(modelLimits.source, 'configured'));
  const existing = new Map(rows.map((r) => [`${r.projectId} ${r.model} ${r.dimension}`, { id: `${r.projectId} ${r.model} ${r.dimension}`, ...r }]));
  const diff = diffById(desired, existing, (a, b) => a.value === b.value, prune);
  const removed = diff.remove.flatMap((id) => existing.get(id) ?? []);
  return {
    counts: countsOf(diff),
    changes: changesOf('limits', diff, existing, (a, b) => fieldChange('value', a.value, b.value)),
    write: () =>
      inBatches([...diff.create, ...diff.update], (batch) =>
        db
          .insert(modelLimits)
          .values(batch.map((l) => ({ projectId: l.projectId, model: l.model, dimension: l.dimension, source: 'configured' as const, value: l.value })))
          .onConflictDoUpdate({
            target: [modelLimits.projectId, modelLimits.model, modelLimits.dimension, modelLimits.source],
            set: { value: sql`excluded.value`, updatedAt: sql`now()` },
          }),
      ),
    prune: () =>
      inBatches(removed, (batch) =>
        db
          .delete(modelLimits)
          .where(
            and(
              eq(modelLimits.source, 'configured'),
              sql`(${modelLimits.projectId}, ${modelLimits.model}, ${modelLimits.dimension}) in (${sql.join(
                batch.map((l) => sql`(${l.projectId}, ${l.model}, ${l.dimension})`),
                sql`, `,
              )})`,
            ),
          ),
      ),
  };
}
