import { and, eq, isNull, or, gt, sql } from 'drizzle-orm';
import type { ApiKey, Dimension, Fleet, KeyMode, Limits, Project, Tenant, Tier } from '../../core/types.js';
import { parseCatalogDoc, type CatalogDoc } from '../../core/catalog.js';
import { tenantSettings } from '../../core/tenant-settings.js';
import { NotFoundError, SecretError } from '../../errors.js';
import { asKeyring, decryptSecret, type Keyring } from '../crypto/secret-box.js';
import { loadDemotions } from './key-health-repo.js';
import type { Database } from './db.js';
import { MODEL_NOT_FOUND } from './exclusions-repo.js';
import { apiKeys, modelLimits, projects, scopeExclusions, settings, tenants } from './schema.js';
import { CATALOG_KEY, bumpFleetVersion, MODELS_KEY, readFleetVersion } from './version.js';

/**
 * Reading the fleet as the engine sees it (never secrets), and the few
 * runtime changes to keys. Every change bumps the fleet version.
 */
export { applyFleet, planFleet, type ApplyOptions, type ApplySummary, type FleetPlan } from './fleet-apply.js';
export type { FleetChange, KindCounts } from './fleet-diff.js';

/** The fleet's stored catalog layer, or null (absent, or no longer valid after an upgrade: then the package catalog applies). */
function storedCatalog(value: unknown): CatalogDoc | null {
  if (value === undefined || value === null) return null;
  try {
    return parseCatalogDoc(value, 'the stored fleet catalog');
  } catch {
    return null;
  }
}

/** The whole fleet from one consistent snapshot: keys without secrets, learned limits, unsupported (project, model) pairs, version. */
export async function loadFleet(db: Database): Promise<Fleet> {
  return db.transaction(
    async (tx) => {
      const version = await readFleetVersion(tx);
      const chain = await tx.select({ value: settings.value }).from(settings).where(eq(settings.key, MODELS_KEY));
      const projectRows = await tx.select({ id: projects.id, tier: projects.tier }).from(projects).orderBy(projects.id);
      const limitRows = await tx.select().from(modelLimits);
      const tenantRows = await tx
        .select({ id: tenants.id, keyMode: tenants.keyMode, models: tenants.models, settings: tenants.settings })
        .from(tenants)
        .orderBy(tenants.id);
      const catalogRow = await tx.select({ value: settings.value }).from(settings).where(eq(settings.key, CATALOG_KEY));
      const keyRows = await tx
        .select({
          id: apiKeys.id,
          tenantId: apiKeys.tenantId,
          projectId: apiKeys.projectId,
          priority: apiKeys.priority,
          enabled: apiKeys.enabled,
          disabledReason: apiKeys.disabledReason,
        })
        .from(apiKeys)
        .orderBy(apiKeys.id);
      const unsupported = await tx
        .select({ projectId: scopeExclusions.projectId, model: scopeExclusions.model })
        .from(scopeExclusions)
        .where(
          and(
            eq(scopeExclusions.reason, MODEL_NOT_FOUND),
            or(isNull(scopeExclusions.until), gt(scopeExclusions.until, sql`now()`)),
          ),
        );
      const configured = new Map<string, Record<string, Partial<Limits>>>();
      for (const l of limitRows.filter((r) => r.source === 'configured')) {
        const byModel = configured.get(l.projectId) ?? {};
        byModel[l.model] = { ...byModel[l.model], [l.dimension]: l.value };
        configured.set(l.projectId, byModel);
      }
      const value = chain[0]?.value;
      return {
        version,
        models: Array.isArray(value) ? value.filter((m): m is string => typeof m === 'string') : [],
        projects: projectRows.map((p): Project => ({ id: p.id, tier: p.tier as Tier, limits: configured.get(p.id) ?? {} })),
        tenants: tenantRows.map((t): Tenant => ({ id: t.id, keyMode: t.keyMode as KeyMode, models: t.models ?? null, settings: tenantSettings(t.settings) })),
        keys: keyRows.map((k): ApiKey => ({ ...k })),
        learned: limitRows
          .filter((r) => r.source === 'learned')
          .map((r) => ({ projectId: r.projectId, model: r.model, dimension: r.dimension as Dimension, value: r.value })),
        unsupported,
        demoted: await loadDemotions(tx),
        catalog: storedCatalog(catalogRow[0]?.value),
      };
    },
    { isolationLevel: 'repeatable read', accessMode: 'read only' },
  );
}

/** The stored fleet version ('0' before the first apply); cheap, for polling. */
export async function fleetVersion(db: Database): Promise<string> {
  return readFleetVersion(db);
}

/**
 * Decrypted secrets of every key, by key id, with the keyring (a bare key: a
 * keyring of that key alone); throws `secret_undecryptable` naming the key
 * row and the encryption key id it lacks (never a secret or a key).
 */
export async function loadKeySecrets(db: Database, keys: Keyring | Buffer): Promise<Map<string, string>> {
  const keyring = asKeyring(keys);
  const rows = await db.select({ id: apiKeys.id, secretEnc: apiKeys.secretEnc }).from(apiKeys);
  const out = new Map<string, string>();
  for (const r of rows) {
    try {
      out.set(r.id, decryptSecret(keyring, r.secretEnc, r.id));
    } catch (err) {
      const why = err instanceof Error ? err.message : 'decryption failed';
      throw new SecretError(`key "${r.id}": ${why}`);
    }
  }
  return out;
}

/** Disables a key with a reason, bumping the version when something changed; an unknown key id is ignored (it may have been pruned meanwhile). */
export async function disableKey(db: Database, keyId: string, reason: string, by: 'system' | 'admin'): Promise<void> {
  await db.transaction(async (tx) => {
    const rows = await tx
      .update(apiKeys)
      .set({ enabled: false, disabledReason: reason, disabledBy: by, updatedAt: sql`now()` })
      .where(
        and(
          eq(apiKeys.id, keyId),
          sql`(${apiKeys.enabled} or ${apiKeys.disabledReason} is distinct from ${reason} or ${apiKeys.disabledBy} is distinct from ${by})`,
        ),
      )
      .returning({ id: apiKeys.id });
    if (rows.length > 0) await bumpFleetVersion(tx);
  });
}

/** Re-enables a disabled key (clearing its reason); true (and a version bump) when it was disabled; NotFoundError for an unknown key. */
export async function enableKey(db: Database, keyId: string): Promise<boolean> {
  return db.transaction(async (tx) => {
    const rows = await tx
      .update(apiKeys)
      .set({ enabled: true, disabledReason: null, disabledBy: null, updatedAt: sql`now()` })
      .where(and(eq(apiKeys.id, keyId), eq(apiKeys.enabled, false)))
      .returning({ id: apiKeys.id });
    if (rows.length === 0) {
      const known = await tx.select({ id: apiKeys.id }).from(apiKeys).where(eq(apiKeys.id, keyId));
      if (known.length === 0) throw new NotFoundError(`unknown key "${keyId}"`);
      return false;
    }
    await bumpFleetVersion(tx);
    return true;
  });
}

/** The tenant whose token hashes to `hash` (see hashToken), or null. */
export async function tenantByTokenHash(db: Database, hash: string): Promise<Tenant | null> {
  const rows = await db
    .select({ id: tenants.id, keyMode: tenants.keyMode, models: tenants.models, settings: tenants.settings })
    .from(tenants)
    .where(eq(tenants.tokenHash, hash));
  const t = rows[0];
  return t ? { id: t.id, keyMode: t.keyMode as KeyMode, models: t.models ?? null, settings: tenantSettings(t.settings) } : null;
}
