import type { FleetSpec } from '../../core/fleet-file.js';
import { QuotaflowError, SecretError } from '../../errors.js';
import { decryptSecret, encryptSecret, fingerprint } from '../crypto/secret-box.js';
import type { DisabledBy } from './schema.js';

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
 * default) is no evidence the key was repaired.
 */
export function desiredKeys(
  spec: FleetSpec,
  secrets: ReadonlyMap<string, string>,
  existing: ReadonlyMap<string, KeyRow>,
  secretKey: Buffer,
): KeyRow[] {
  return spec.keys.map((k) => {
    const secret = secrets.get(k.id);
    if (secret === undefined) throw new QuotaflowError('internal', `no resolved secret for key "${k.id}"`);
    const old = existing.get(k.id);
    const fp = fingerprint(secret);
    const secretChanged = old === undefined || old.fingerprint !== fp || storedSecret(secretKey, old) !== secret;
    const state = enabledState(k.enabled, old, secretChanged);
    return {
      id: k.id,
      tenantId: k.tenant,
      projectId: k.project,
      secretEnc: secretChanged || old === undefined ? encryptSecret(secretKey, secret) : old.secretEnc,
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

function storedSecret(secretKey: Buffer, row: KeyRow): string {
  try {
    return decryptSecret(secretKey, row.secretEnc);
  } catch (err) {
    // Re-encrypting under a different QUOTAFLOW_SECRET would silently break every worker: refuse instead.
    const why = err instanceof QuotaflowError ? err.message : 'decryption failed';
    throw new SecretError(`key "${row.id}": ${why}; is QUOTAFLOW_SECRET the one the fleet was applied with?`);
  }
}
