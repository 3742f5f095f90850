import { eq, sql } from 'drizzle-orm';
import type { FleetSpec } from '../../core/fleet-file.js';
import { ValidationError } from '../../errors.js';
import { fingerprint } from '../crypto/secret-box.js';
import type { Database } from './db.js';
import { countsOf, diffModels, hasChanges, type KindCounts } from './fleet-diff.js';
import { syncKeys, syncLimits, syncProjects, syncTenants } from './fleet-sync.js';
import { settings } from './schema.js';
import { bumpFleetVersion, MODELS_KEY, readFleetVersion } from './version.js';

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

export interface ApplyOptions {
  /** 32-byte key that encrypts secrets at rest */
  secretKey: Buffer;
  /** looks up `secretEnv` variables (injected: only config.ts reads process.env) */
  resolveEnv: (name: string) => string | undefined;
  /** also remove keys, tenants, projects and configured limits the file no longer names */
  prune: boolean;
}

/**
 * Makes the stored fleet match `spec` in ONE transaction (idempotent: a
 * second apply changes nothing and keeps the version). Throws ValidationError
 * before touching anything when a secretEnv variable is unset.
 */
export async function applyFleet(db: Database, spec: FleetSpec, opts: ApplyOptions): Promise<ApplySummary> {
  const secrets = resolveSecrets(spec, opts.resolveEnv);
  return db.transaction(async (tx) => {
    // Two concurrent applies would race on inserts; serialise them instead.
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext('quotaflow.apply_fleet'))`);
    const models = await syncModels(tx, spec.models);
    const projects = await syncProjects(tx, spec, opts.prune);
    const tenants = await syncTenants(tx, spec, opts.prune);
    const limits = await syncLimits(tx, spec, opts.prune);
    const keys = await syncKeys(tx, spec, secrets, opts);
    // Prune dependants before what they reference (keys -> tenants, projects).
    await keys.prune();
    await tenants.prune();
    await projects.prune();
    const counts = {
      models,
      projects: countsOf(projects.diff),
      tenants: countsOf(tenants.diff),
      keys: countsOf(keys.diff),
      limits,
    };
    const changed = Object.values(counts).some(hasChanges);
    const version = changed ? await bumpFleetVersion(tx) : await readFleetVersion(tx);
    return { ...counts, version, changed };
  });
}

/** Plaintext secret per key id; every unset variable and every shared secret is reported, never a value. */
function resolveSecrets(spec: FleetSpec, resolveEnv: (name: string) => string | undefined): Map<string, string> {
  const problems: string[] = [];
  const secrets = new Map<string, string>();
  const owners = new Map<string, string>();
  spec.keys.forEach((k, i) => {
    const value = 'value' in k.secret ? k.secret.value : resolveEnv(k.secret.env);
    if (value === undefined || value === '') {
      const name = 'env' in k.secret ? k.secret.env : '';
      problems.push(`keys.${i} (${k.id}): environment variable "${name}" (secretEnv) is not set`);
      return;
    }
    const fp = fingerprint(value);
    const other = owners.get(fp);
    if (other !== undefined) problems.push(`keys.${i} (${k.id}): same secret as key "${other}" (a key belongs to one tenant)`);
    owners.set(fp, k.id);
    secrets.set(k.id, value);
  });
  const tokens = new Map<string, string>();
  spec.tenants.forEach((t, i) => {
    if (t.token === null) return;
    const other = tokens.get(t.token);
    if (other !== undefined) problems.push(`tenants.${i} (${t.id}): same token as tenant "${other}"`);
    tokens.set(t.token, t.id);
  });
  if (problems.length) throw new ValidationError('cannot apply fleet file', problems);
  return secrets;
}

async function syncModels(db: Database, models: string[]): Promise<KindCounts> {
  const rows = await db.select({ value: settings.value }).from(settings).where(eq(settings.key, MODELS_KEY));
  const before = rows[0]?.value;
  const old = Array.isArray(before) ? before.filter((m): m is string => typeof m === 'string') : [];
  const counts = diffModels(old, models);
  if (JSON.stringify(old) !== JSON.stringify(models)) {
    await db
      .insert(settings)
      .values({ key: MODELS_KEY, value: models })
      .onConflictDoUpdate({ target: settings.key, set: { value: models } });
  }
  return counts;
}
