import { and, eq, inArray, sql } from 'drizzle-orm';
import type { FleetSpec } from '../../core/fleet-file.js';
import { hashToken } from '../crypto/secret-box.js';
import type { Database } from './db.js';
import { countsOf, diffById, type Diff, type KindCounts } from './fleet-diff.js';
import { apiKeys, modelLimits, projects, tenants } from './schema.js';
import { desiredKeys, type KeyRow } from './fleet-keys.js';

/**
 * One step of `applyFleet` per table: read what is stored, diff with the
 * file, write only the differences. Runs inside the apply transaction.
 */
export interface Step<T> {
  diff: Diff<T>;
  /** deletes `diff.remove` (empty unless pruning); called once dependants are gone */
  prune(): Promise<void>;
}

type ProjectRow = { id: string; tier: string };
type TenantRow = { id: string; keyMode: string; models: string[] | null; tokenHash: string | null };

/** Upserts the file's projects plus the implicit `key:<id>` projects (tier free) of keys that name none. */
export async function syncProjects(db: Database, spec: FleetSpec, prune: boolean): Promise<Step<ProjectRow>> {
  const desired = new Map<string, ProjectRow>(spec.projects.map((p) => [p.id, { id: p.id, tier: p.tier }]));
  for (const k of spec.keys) if (!desired.has(k.project)) desired.set(k.project, { id: k.project, tier: 'free' });
  const existing = new Map((await db.select({ id: projects.id, tier: projects.tier }).from(projects)).map((r) => [r.id, r]));
  const diff = diffById([...desired.values()], existing, (a, b) => a.tier === b.tier, prune);
  if (diff.create.length) await db.insert(projects).values(diff.create);
  for (const p of diff.update) await db.update(projects).set({ tier: p.tier, updatedAt: sql`now()` }).where(eq(projects.id, p.id));
  return {
    diff,
    async prune() {
      if (diff.remove.length) await db.delete(projects).where(inArray(projects.id, diff.remove));
    },
  };
}

/** Upserts tenants (key mode, model chain, token hash). */
export async function syncTenants(db: Database, spec: FleetSpec, prune: boolean): Promise<Step<TenantRow>> {
  const desired: TenantRow[] = spec.tenants.map((t) => ({
    id: t.id,
    keyMode: t.keyMode,
    models: t.models,
    tokenHash: t.token === null ? null : hashToken(t.token),
  }));
  const rows = await db
    .select({ id: tenants.id, keyMode: tenants.keyMode, models: tenants.models, tokenHash: tenants.tokenHash })
    .from(tenants);
  const existing = new Map(rows.map((r) => [r.id, r]));
  const same = (a: TenantRow, b: TenantRow): boolean =>
    a.keyMode === b.keyMode && a.tokenHash === b.tokenHash && JSON.stringify(a.models) === JSON.stringify(b.models);
  const diff = diffById(desired, existing, same, prune);
  // Tokens may move between tenants: clear the changed and leaving ones first so the unique index never sees a transient duplicate.
  const moved = [...diff.update.map((t) => t.id), ...diff.remove];
  if (moved.length) await db.update(tenants).set({ tokenHash: null }).where(inArray(tenants.id, moved));
  if (diff.create.length) await db.insert(tenants).values(diff.create);
  for (const t of diff.update) {
    await db
      .update(tenants)
      .set({ keyMode: t.keyMode, models: t.models, tokenHash: t.tokenHash, updatedAt: sql`now()` })
      .where(eq(tenants.id, t.id));
  }
  return {
    diff,
    async prune() {
      if (diff.remove.length) await db.delete(tenants).where(inArray(tenants.id, diff.remove));
    },
  };
}

/** Upserts keys (secrets encrypted); removes keys the file no longer names when pruning. */
export async function syncKeys(
  db: Database,
  spec: FleetSpec,
  secrets: ReadonlyMap<string, string>,
  opts: { secretKey: Buffer; prune: boolean },
): Promise<Step<KeyRow>> {
  const existing = new Map((await db.select().from(apiKeys)).map((r) => [r.id, r as KeyRow]));
  const desired = desiredKeys(spec, secrets, existing, opts.secretKey);
  const same = (a: KeyRow, b: KeyRow): boolean =>
    a.tenantId === b.tenantId &&
    a.projectId === b.projectId &&
    a.secretEnc === b.secretEnc &&
    a.priority === b.priority &&
    a.enabled === b.enabled &&
    a.disabledReason === b.disabledReason &&
    a.disabledBy === b.disabledBy;
  const diff = diffById(desired, existing, same, opts.prune);
  if (diff.create.length) await db.insert(apiKeys).values(diff.create);
  for (const { id, ...k } of diff.update) await db.update(apiKeys).set({ ...k, updatedAt: sql`now()` }).where(eq(apiKeys.id, id));
  return {
    diff,
    async prune() {
      if (diff.remove.length) await db.delete(apiKeys).where(inArray(apiKeys.id, diff.remove));
    },
  };
}

/** Upserts configured limits; with prune, removes configured limits the file no longer names (learned ones stay). */
export async function syncLimits(db: Database, spec: FleetSpec, prune: boolean): Promise<KindCounts> {
  type LimitRow = { id: string; projectId: string; model: string; dimension: 'rpm' | 'tpm' | 'rpd'; value: number };
  const desired: LimitRow[] = [];
  for (const p of spec.projects) {
    for (const [model, limits] of Object.entries(p.limits)) {
      for (const dimension of ['rpm', 'tpm', 'rpd'] as const) {
        const value = limits[dimension];
        if (value !== undefined) desired.push({ id: `${p.id}|${model}|${dimension}`, projectId: p.id, model, dimension, value });
      }
    }
  }
  const rows = await db
    .select({ projectId: modelLimits.projectId, model: modelLimits.model, dimension: modelLimits.dimension, value: modelLimits.value })
    .from(modelLimits)
    .where(eq(modelLimits.source, 'configured'));
  const existing = new Map(rows.map((r) => [`${r.projectId}|${r.model}|${r.dimension}`, { id: `${r.projectId}|${r.model}|${r.dimension}`, ...r }]));
  const diff = diffById(desired, existing, (a, b) => a.value === b.value, prune);
  for (const l of [...diff.create, ...diff.update]) {
    await db
      .insert(modelLimits)
      .values({ projectId: l.projectId, model: l.model, dimension: l.dimension, source: 'configured', value: l.value })
      .onConflictDoUpdate({
        target: [modelLimits.projectId, modelLimits.model, modelLimits.dimension, modelLimits.source],
        set: { value: l.value, updatedAt: sql`now()` },
      });
  }
  for (const id of diff.remove) {
    const old = existing.get(id);
    if (!old) continue;
    await db
      .delete(modelLimits)
      .where(
        and(
          eq(modelLimits.projectId, old.projectId),
          eq(modelLimits.model, old.model),
          eq(modelLimits.dimension, old.dimension),
          eq(modelLimits.source, 'configured'),
        ),
      );
  }
  return countsOf(diff);
}
