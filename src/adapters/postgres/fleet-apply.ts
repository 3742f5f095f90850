import { eq, sql } from 'drizzle-orm';
import type { FleetSpec, SecretRef } from '../../core/fleet-file.js';
import { tokenWeakness } from '../../core/fleet-token.js';
import { QuotaflowError, ValidationError } from '../../errors.js';
import { fingerprint, type Keyring } from '../crypto/secret-box.js';
import { dependencyError, type Database } from './db.js';
import { diffModels, hasChanges, modelChanges, type FleetChange, type KindCounts } from './fleet-diff.js';
import { planKeys } from './fleet-keys.js';
import { planLimits, planProjects, planTenants, type Step } from './fleet-sync.js';
import { settings } from './schema.js';
import { bumpFleetVersion, CATALOG_KEY, MODELS_KEY, readFleetVersion } from './version.js';

/** What `applyFleet` did, per kind, and the fleet version afterwards. */
export interface ApplySummary {
  models: KindCounts;
  projects: KindCounts;
  tenants: KindCounts;
  keys: KindCounts;
  limits: KindCounts;
  version: string;
  changed: boolean;
}

/** What `applyFleet` would do (a dry run): the counts and every change, secrets shown only as "secret changed". */
export interface FleetPlan extends ApplySummary {
  /** every create, update and removal (`version` is the stored one; an apply would bump it when `changed`) */
  changes: FleetChange[];
}

export interface ApplyOptions {
  /** 32-byte key that encrypts secrets at rest */
  secretKey: Buffer;
  /** reads stored secrets (the previous keys too, during a rotation); default: secretKey alone */
  keyring?: Keyring | undefined;
  /** looks up `secretEnv` / `tokenEnv` variables (injected: only config.ts reads process.env) */
  resolveEnv: (name: string) => string | undefined;
  /** also remove keys, tenants, projects and configured limits the file no longer names */
  prune: boolean;
}

type Steps = { models: Step; projects: Step; tenants: Step; limits: Step; keys: Step };

/**
 * Makes the stored fleet match `spec` in ONE transaction (idempotent: a
 * second apply changes nothing and keeps the version). Throws ValidationError
 * before touching anything when a variable is unset or a token is weak.
 */
export async function applyFleet(db: Database, spec: FleetSpec, opts: ApplyOptions): Promise<ApplySummary> {
  const resolved = resolveSecrets(spec, opts.resolveEnv);
  return guarded('applying the fleet failed', () =>
    db.transaction(async (tx) => {
      // Two concurrent applies would race on inserts; serialise them instead.
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext('quotaflow.apply_fleet'))`);
      const steps = await planSteps(tx, spec, resolved, opts);
      for (const s of [steps.models, steps.projects, steps.tenants, steps.limits, steps.keys]) await s.write();
      // Prune dependants before what they reference (keys -> tenants, projects).
      for (const s of [steps.limits, steps.keys, steps.tenants, steps.projects]) await s.prune();
      const counts = countsOfSteps(steps);
      const changed = Object.values(counts).some(hasChanges);
      const version = changed ? await bumpFleetVersion(tx) : await readFleetVersion(tx);
      return { ...counts, version, changed };
    }),
  );
}

/** What applyFleet would change, read in one snapshot, writing nothing. */
export async function planFleet(db: Database, spec: FleetSpec, opts: ApplyOptions): Promise<FleetPlan> {
  const resolved = resolveSecrets(spec, opts.resolveEnv);
  return guarded('reading the stored fleet failed', () =>
    db.transaction(
      async (tx) => {
        const steps = await planSteps(tx, spec, resolved, opts);
        const counts = countsOfSteps(steps);
        const changes = [steps.models, steps.projects, steps.tenants, steps.keys, steps.limits].flatMap((s) => s.changes);
        return { ...counts, version: await readFleetVersion(tx), changed: Object.values(counts).some(hasChanges), changes };
      },
      { isolationLevel: 'repeatable read', accessMode: 'read only' },
    ),
  );
}

async function planSteps(tx: Database, spec: FleetSpec, resolved: Resolved, opts: ApplyOptions): Promise<Steps> {
  return {
    models: await planModels(tx, spec.models, spec.catalog),
    projects: await planProjects(tx, spec, opts.prune),
    tenants: await planTenants(tx, spec, resolved.tokens, opts.prune),
    limits: await planLimits(tx, spec, opts.prune),
    keys: await planKeys(tx, spec, resolved.secrets, opts),
  };
}

function countsOfSteps(s: Steps): Pick<ApplySummary, 'models' | 'projects' | 'tenants' | 'keys' | 'limits'> {
  return { models: s.models.counts, projects: s.projects.counts, tenants: s.tenants.counts, keys: s.keys.counts, limits: s.limits.counts };
}

/** Driver errors become one DependencyError with the database's own message (never the SQL); our own errors pass. */
async function guarded<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof QuotaflowError) throw err;
    throw dependencyError(what, err);
  }
}

interface Resolved {
  secrets: Map<string, string>;
  tokens: Map<string, string>;
}

/** Plaintext secrets and tokens by id; every unset variable, shared secret and weak token is reported, never a value. */
function resolveSecrets(spec: FleetSpec, resolveEnv: (name: string) => string | undefined): Resolved {
  const problems: string[] = [];
  const read = (ref: SecretRef, where: string, field: string): string | undefined => {
    const value = 'value' in ref ? ref.value : resolveEnv(ref.env);
    if ((value === undefined || value === '') && 'env' in ref) problems.push(`${where}: environment variable "${ref.env}" (${field}) is not set`);
    return value === '' ? undefined : value;
  };
  const secrets = new Map<string, string>();
  const owners = new Map<string, string>();
  spec.keys.forEach((k, i) => {
    const value = read(k.secret, `keys.${i} (${k.id})`, 'secretEnv');
    if (value === undefined) return;
    const fp = fingerprint(value);
    const other = owners.get(fp);
    if (other !== undefined) problems.push(`keys.${i} (${k.id}): same secret as key "${other}" (a key belongs to one tenant)`);
    owners.set(fp, k.id);
    secrets.set(k.id, value);
  });
  const tokens = new Map<string, string>();
  const tokenOwners = new Map<string, string>();
  spec.tenants.forEach((t, i) => {
    if (t.token === null) return;
    const where = `tenants.${i} (${t.id})`;
    const value = read(t.token, where, 'tokenEnv');
    if (value === undefined) return;
    const weak = tokenWeakness(value);
    if (weak) problems.push(`${where}: the token ${weak}`);
    const other = tokenOwners.get(value);
    if (other !== undefined) problems.push(`${where}: same token as tenant "${other}"`);
    tokenOwners.set(value, t.id);
    tokens.set(t.id, value);
  });
  if (problems.length) throw new ValidationError('cannot apply fleet file', problems);
  return { secrets, tokens };
}

/** The default chain, and the fleet's catalog layer beside it (a catalog change counts as one updated model entry). */
async function planModels(db: Database, models: string[], catalog: FleetSpec['catalog']): Promise<Step> {
  const rows = await db.select({ value: settings.value }).from(settings).where(eq(settings.key, MODELS_KEY));
  const before = rows[0]?.value;
  const old = Array.isArray(before) ? before.filter((m): m is string => typeof m === 'string') : [];
  const storedCatalog = (await db.select({ value: settings.value }).from(settings).where(eq(settings.key, CATALOG_KEY)))[0]?.value ?? null;
  const catalogChanged = JSON.stringify(storedCatalog) !== JSON.stringify(catalog);
  const counts = diffModels(old, models);
  return {
    counts: catalogChanged ? { ...counts, updated: counts.updated + 1 } : counts,
    changes: [...modelChanges(old, models), ...(catalogChanged ? [{ kind: 'models' as const, id: 'catalog', action: 'update' as const, details: ['the fleet catalog section changed'] }] : [])],
    async write() {
      if (catalogChanged) {
        if (catalog === null) await db.delete(settings).where(eq(settings.key, CATALOG_KEY));
        else await db.insert(settings).values({ key: CATALOG_KEY, value: catalog }).onConflictDoUpdate({ target: settings.key, set: { value: catalog } });
      }
      if (JSON.stringify(old) === JSON.stringify(models)) return;
      await db.insert(settings).values({ key: MODELS_KEY, value: models }).onConflictDoUpdate({ target: settings.key, set: { value: models } });
    },
    prune: async () => undefined,
  };
}
