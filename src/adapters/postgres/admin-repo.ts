import { and, eq, gte, sql } from 'drizzle-orm';
import { ValidationError, NotFoundError } from '../../errors.js';
import { encryptSecret, fingerprint } from '../crypto/secret-box.js';
import type { Database } from './db.js';
import type { KeyListing, NewKey, StoredLimit, TenantListing, TenantUsage } from '../../app/stores.js';
import { apiKeys, modelLimits, projects, tenants, usageEvents } from './schema.js';

export type { KeyListing, NewKey, TenantUsage };
import { bumpFleetVersion } from './version.js';

/**
 * The admin surface's reads and the one write fleet-repo does not have
 * (adding a single key). Never returns a secret: keys carry a fingerprint.
 */

/** Every key with its fingerprint and state, ordered by id. */
export async function listKeys(db: Database): Promise<KeyListing[]> {
  return db
    .select({
      id: apiKeys.id,
      tenantId: apiKeys.tenantId,
      projectId: apiKeys.projectId,
      fingerprint: apiKeys.fingerprint,
      priority: apiKeys.priority,
      enabled: apiKeys.enabled,
      disabledReason: apiKeys.disabledReason,
      disabledBy: apiKeys.disabledBy,
    })
    .from(apiKeys)
    .orderBy(apiKeys.id);
}

/** One key by id, or null. */
export async function findKey(db: Database, id: string): Promise<KeyListing | null> {
  return (await listKeys(db)).find((k) => k.id === id) ?? null;
}


/**
 * Adds one key (secret encrypted at rest) and bumps the fleet version, in one
 * transaction. ValidationError when the id or the secret is already used;
 * NotFoundError for an unknown tenant or project.
 */
export async function addKey(db: Database, secretKey: Buffer, k: NewKey): Promise<KeyListing> {
  const fp = fingerprint(k.secret);
  const projectId = k.projectId ?? `key:${k.id}`;
  return db.transaction(async (tx) => {
    // serialise with applyFleet, which takes the same lock
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext('quotaflow.apply_fleet'))`);
    const clash = await tx.select({ id: apiKeys.id, fp: apiKeys.fingerprint }).from(apiKeys).where(sql`${apiKeys.id} = ${k.id} or ${apiKeys.fingerprint} = ${fp}`);
    if (clash.some((c) => c.id === k.id)) throw new ValidationError(`key "${k.id}" already exists`);
    if (clash.length) throw new ValidationError(`same secret as key "${clash[0]?.id ?? ''}" (a key belongs to one tenant)`);
    if (k.tenantId !== null) {
      const t = await tx.select({ id: tenants.id }).from(tenants).where(eq(tenants.id, k.tenantId));
      if (!t.length) throw new NotFoundError(`unknown tenant "${k.tenantId}"`);
    }
    if (k.projectId === undefined) await tx.insert(projects).values({ id: projectId, tier: 'free' }).onConflictDoNothing();
    else if (!(await tx.select({ id: projects.id }).from(projects).where(eq(projects.id, projectId))).length) {
      throw new NotFoundError(`unknown project "${projectId}"`);
    }
    const row = { id: k.id, tenantId: k.tenantId, projectId, secretEnc: encryptSecret(secretKey, k.secret, k.id), fingerprint: fp, priority: k.priority, enabled: true };
    await tx.insert(apiKeys).values(row);
    await bumpFleetVersion(tx);
    return { id: k.id, tenantId: k.tenantId, projectId, fingerprint: fp, priority: k.priority, enabled: true, disabledReason: null, disabledBy: null };
  });
}

/** Tenants with their key mode and chain; `hasToken` says whether the producer API is open to them. */
export async function listTenants(db: Database): Promise<TenantListing[]> {
  const rows = await db.select({ id: tenants.id, keyMode: tenants.keyMode, models: tenants.models, tokenHash: tenants.tokenHash }).from(tenants).orderBy(tenants.id);
  return rows.map((r) => ({ id: r.id, keyMode: r.keyMode, models: r.models ?? null, hasToken: r.tokenHash !== null }));
}

/** Stored limits (configured by the fleet file and learned from 429s). */
export async function listStoredLimits(db: Database): Promise<StoredLimit[]> {
  return db.select().from(modelLimits).orderBy(modelLimits.projectId, modelLimits.model, modelLimits.dimension, modelLimits.source);
}

/** Projects and their tiers. */
export async function listProjects(db: Database): Promise<Array<{ id: string; tier: string }>> {
  return db.select({ id: projects.id, tier: projects.tier }).from(projects).orderBy(projects.id);
}


/** Upstream calls and tokens per tenant since `since`, split by own vs central keys. */
export async function usageByTenant(db: Database, since: Date): Promise<TenantUsage[]> {
  return db
    .select({
      tenantId: usageEvents.tenantId,
      central: usageEvents.central,
      requests: sql<number>`count(*)::int`,
      successes: sql<number>`(count(*) filter (where ${usageEvents.outcome} = 'success'))::int`,
      totalTokens: sql<number>`coalesce(sum(${usageEvents.totalTokens}), 0)::bigint::float8`,
    })
    .from(usageEvents)
    .where(and(gte(usageEvents.at, since)))
    .groupBy(usageEvents.tenantId, usageEvents.central)
    .orderBy(usageEvents.tenantId, usageEvents.central);
}
