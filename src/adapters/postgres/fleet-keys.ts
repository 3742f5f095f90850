import { sql } from 'drizzle-orm';
import type { FleetSpec } from '../../core/fleet-file.js';
import { QuotaflowError, SecretError } from '../../errors.js';
import { createKeyring, decryptSecret, encryptSecret, fingerprint, type Keyring } from '../crypto/secret-box.js';
import type { Database } from './db.js';
import { deleteByIds, inBatches } from './fleet-batch.js';
import { changesOf, countsOf, diffById, fieldChange } from './fleet-diff.js';
import type { Step } from './fleet-sync.js';
import { apiKeys, type DisabledBy } from './schema.js';

/** A key row as stored (minus timestamps). */
export interface KeyRow {
  id: string;
  tenantId: string | null;
  projectId: string;
  secretEnc: string;
  fingerprint: string;
  priority: number;
  enabled: boolean;
  disabledReason: string | null;
  disabledBy: DisabledBy | null;
}

export const FLEET_DISABLED_REASON = 'disabled in fleet file';

/**
 * The rows the file asks for, given what is stored. An unchanged secret keeps
 * its stored ciphertext (fresh IVs would make every apply look like an
 * update). A key disabled at runtime ('system') or by an operator ('admin')
 * stays disabled until its secret changes: the file saying `enabled` (the
 * default) is no evidence the key was repaired. New secrets are encrypted
 * under `secretKey`; stored ones are read with `keyring` (which holds the
 * previous keys during a rotation).
 */
export function desiredKeys(
  spec: FleetSpec,
  secrets: ReadonlyMap<string, string>,
  existing: ReadonlyMap<string, KeyRow>,
  keys: { secretKey: Buffer; keyring: Keyring },
): KeyRow[] {
  return spec.keys.map((k) => {
    const secret = secrets.get(k.id);
    if (secret === undefined) throw new QuotaflowError('internal', `no resolved secret for key "${k.id}"`);
    const old = existing.get(k.id);
    const fp = fingerprint(secret);
    const secretChanged = old === undefined || old.fingerprint !== fp || storedSecret(keys.keyring, old) !== secret;
    const state = enabledState(k.enabled, old, secretChanged);
    return {
      id: k.id,
      tenantId: k.tenant,
      projectId: k.project,
      secretEnc: secretChanged || old === undefined ? encryptSecret(keys.secretKey, secret, k.id) : old.secretEnc,
      fingerprint: fp,
      priority: k.priority,
      ...state,
    };
  });
}

type EnabledState = Pick<KeyRow, 'enabled' | 'disabledReason' | 'disabledBy'>;

function enabledState(wanted: boolean, old: KeyRow | undefined, secretChanged: boolean): EnabledState {
  const enabled: EnabledState = { enabled: true, disabledReason: null, disabledBy: null };
  const keep = (o: KeyRow): EnabledState => ({ enabled: o.enabled, disabledReason: o.disabledReason, disabledBy: o.disabledBy });
  if (!wanted) {
    // Already disabled for any reason: keep that reason (e.g. 'system' found it invalid).
    if (old && !old.enabled) return keep(old);
    return { enabled: false, disabledReason: FLEET_DISABLED_REASON, disabledBy: 'fleet' };
  }
  if (old && !old.enabled && old.disabledBy !== 'fleet' && !secretChanged) return keep(old);
  return enabled;
}

function storedSecret(keyring: Keyring, row: KeyRow): string {
  try {
    return decryptSecret(keyring, row.secretEnc, row.id);
  } catch (err) {
    // Re-encrypting under a different QUOTAFLOW_SECRET would silently break every worker: refuse instead.
    const why = err instanceof QuotaflowError ? err.message : 'decryption failed';
    throw new SecretError(`key "${row.id}": ${why}; is QUOTAFLOW_SECRET the one the fleet was applied with?`);
  }
}

const sameKey = (a: KeyRow, b: KeyRow): boolean =>
  a.tenantId === b.tenantId &&
  a.projectId === b.projectId &&
  a.secretEnc === b.secretEnc &&
  a.priority === b.priority &&
  a.enabled === b.enabled &&
  a.disabledReason === b.disabledReason &&
  a.disabledBy === b.disabledBy;

/** What changed in a key, in words; the secret only as "secret changed". */
function describeKey(a: KeyRow, b: KeyRow): string[] {
  const state = (k: KeyRow): string => (k.enabled ? 'enabled' : `disabled (${k.disabledReason ?? 'no reason'})`);
  return [
    ...fieldChange('tenant', a.tenantId ?? 'central', b.tenantId ?? 'central'),
    ...fieldChange('project', a.projectId, b.projectId),
    ...(a.secretEnc === b.secretEnc ? [] : ['secret changed']),
    ...fieldChange('priority', a.priority, b.priority),
    ...fieldChange('state', state(a), state(b)),
  ];
}

/** Keys (secrets encrypted); pruning removes keys the file no longer names. */
export async function planKeys(db: Database, spec: FleetSpec, secrets: ReadonlyMap<string, string>, opts: { secretKey: Buffer; keyring?: Keyring | undefined; prune: boolean }): Promise<Step> {
  const rows = await db
    .select({
      id: apiKeys.id,
      tenantId: apiKeys.tenantId,
      projectId: apiKeys.projectId,
      secretEnc: apiKeys.secretEnc,
      fingerprint: apiKeys.fingerprint,
      priority: apiKeys.priority,
      enabled: apiKeys.enabled,
      disabledReason: apiKeys.disabledReason,
      disabledBy: apiKeys.disabledBy,
    })
    .from(apiKeys);
  const existing = new Map(rows.map((r) => [r.id, r]));
  const keys = { secretKey: opts.secretKey, keyring: opts.keyring ?? createKeyring(opts.secretKey) };
  const diff = diffById(desiredKeys(spec, secrets, existing, keys), existing, sameKey, opts.prune);
  return {
    counts: countsOf(diff),
    changes: changesOf('keys', diff, existing, describeKey),
    write: () =>
      inBatches([...diff.create, ...diff.update], (batch) =>
        db
          .insert(apiKeys)
          .values(batch)
          .onConflictDoUpdate({
            target: apiKeys.id,
            set: {
              tenantId: sql`excluded.tenant_id`,
              projectId: sql`excluded.project_id`,
              secretEnc: sql`excluded.secret_enc`,
              fingerprint: sql`excluded.fingerprint`,
              priority: sql`excluded.priority`,
              enabled: sql`excluded.enabled`,
              disabledReason: sql`excluded.disabled_reason`,
              disabledBy: sql`excluded.disabled_by`,
              updatedAt: sql`now()`,
            },
          }),
      ),
    prune: () => deleteByIds(db, apiKeys, apiKeys.id, diff.remove),
  };
}
