import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { SecretError } from '../../errors.js';
import { describeKeyring, isKeyId, keyIdOf, type Keyring } from './keyring.js';

export { asKeyring, createKeyring, keyIdOf, type Keyring } from './keyring.js';

/**
 * Secrets at rest: AES-256-GCM with a random 12-byte IV per value. The boxed
 * form is `v2.<keyId>.<iv>.<tag>.<ciphertext>` (base64url parts): the key id
 * says which key of the keyring opens it, so QUOTAFLOW_SECRET can rotate.
 *
 * The associated data is `v2.<keyId>.<owner>`, where the owner is the id of
 * the key row holding the value. Binding the key id means editing it (to aim
 * a value at another key) breaks the tag; binding the owner means a value
 * copied into another row does not open there, so someone able to write the
 * table but not holding QUOTAFLOW_SECRET cannot make one tenant's key serve
 * another's row. `v1.<iv>.<tag>.<ciphertext>` values (no key id, nothing
 * bound) are still read, with each key of the keyring; `quotaflow rekey`
 * rewrites them as v2.
 */
const V1 = 'v1';
const V2 = 'v2';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** What a stored value says about itself, before any key is tried. */
export type StoredFormat = { version: 'v1' } | { version: 'v2'; keyId: string } | { version: 'unrecognised' };

interface Parts {
  iv: Buffer;
  tag: Buffer;
  body: Buffer;
}

const associatedData = (keyId: string, owner: string): Buffer => Buffer.from(`${V2}.${keyId}.${owner}`, 'utf8');

/** Encrypts `plaintext` under `key` for the row `owner`; returns `v2.<keyId>.<iv>.<tag>.<ciphertext>`. */
export function encryptSecret(key: Buffer, plaintext: string, owner: string): string {
  const keyId = keyIdOf(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(associatedData(keyId, owner));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [V2, keyId, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
}

/**
 * Decrypts a stored value of the row `owner` with the key its id names (a
 * v1 value: with each key of the keyring). SecretError otherwise, naming key
 * ids, never a key or the secret.
 */
export function decryptSecret(keyring: Keyring, boxed: string, owner: string): string {
  const format = storedFormat(boxed);
  const parts = partsOf(boxed);
  if (format.version === 'unrecognised' || parts === null) throw new SecretError('stored secret cannot be decrypted (unrecognised format)');
  if (format.version === 'v1') {
    for (const id of [keyring.currentId, ...keyring.previousIds]) {
      const plain = open(keyring.key(id), parts, undefined);
      if (plain !== null) return plain;
    }
    throw new SecretError(`stored secret (v1, no key id) opens under none of the keyring's keys ${describeKeyring(keyring)}: wrong QUOTAFLOW_SECRET, or an altered value`);
  }
  const key = keyring.key(format.keyId);
  if (key === undefined) {
    throw new SecretError(
      `stored secret is encrypted under key id ${format.keyId}, which this process's keyring lacks (it holds ${describeKeyring(keyring)}): ` +
        'set QUOTAFLOW_SECRET or QUOTAFLOW_SECRET_PREVIOUS to that key and restart',
    );
  }
  const plain = open(key, parts, associatedData(format.keyId, owner));
  if (plain === null) throw new SecretError(`stored secret under key id ${format.keyId} cannot be decrypted: the value was altered or belongs to another key row`);
  return plain;
}

/** The version and key id a stored value declares (nothing is decrypted). */
export function storedFormat(boxed: string): StoredFormat {
  const fields = boxed.split('.');
  if (fields.length === 4 && fields[0] === V1) return { version: 'v1' };
  const keyId = fields[1];
  if (fields.length === 5 && fields[0] === V2 && keyId !== undefined && isKeyId(keyId)) return { version: 'v2', keyId };
  return { version: 'unrecognised' };
}

/** What re-encrypting a stored value under the current key gives. */
export type Reencryption =
  | { kind: 'current' }
  | { kind: 'reencrypted'; boxed: string }
  | { kind: 'undecryptable'; storedUnder: string; reason: string };

/**
 * A stored value of `owner` rewritten under the keyring's current key:
 * 'current' when it is already a v2 value under that key (and opens),
 * 'undecryptable' with the key id it is stored under ('v1' or
 * 'unrecognised' without one) when the keyring cannot open it.
 */
export function reencryptSecret(keyring: Keyring, boxed: string, owner: string): Reencryption {
  const format = storedFormat(boxed);
  const storedUnder = format.version === 'v2' ? format.keyId : format.version;
  let plain: string;
  try {
    plain = decryptSecret(keyring, boxed, owner);
  } catch (err) {
    return { kind: 'undecryptable', storedUnder, reason: err instanceof SecretError ? err.message : 'decryption failed' };
  }
  if (storedUnder === keyring.currentId) return { kind: 'current' };
  return { kind: 'reencrypted', boxed: encryptSecret(keyring.currentKey(), plain, owner) };
}

/** The binary parts of a v1 or v2 value, or null when malformed. */
function partsOf(boxed: string): Parts | null {
  const fields = boxed.split('.');
  const [ivPart, tagPart, bodyPart] = fields.slice(fields.length === 5 ? 2 : 1);
  if (ivPart === undefined || tagPart === undefined || bodyPart === undefined) return null;
  const parts = { iv: Buffer.from(ivPart, 'base64url'), tag: Buffer.from(tagPart, 'base64url'), body: Buffer.from(bodyPart, 'base64url') };
  return parts.iv.length === IV_BYTES && parts.tag.length === TAG_BYTES ? parts : null;
}

/** The plaintext, or null when the key is wrong or anything authenticated was altered. */
function open(key: Buffer | undefined, parts: Parts, aad: Buffer | undefined): string | null {
  if (key === undefined) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, parts.iv, { authTagLength: TAG_BYTES });
    if (aad) decipher.setAAD(aad);
    decipher.setAuthTag(parts.tag);
    return Buffer.concat([decipher.update(parts.body), decipher.final()]).toString('utf8');
  } catch {
    // The cause is dropped on purpose: crypto errors are uninformative and messages stay secret-free.
    return null;
  }
}

/** A short, non-reversible identifier of a secret (`sha256:` + 12 hex), safe to show and log. */
export function fingerprint(secret: string): string {
  return `sha256:${createHash('sha256').update(secret, 'utf8').digest('hex').slice(0, 12)}`;
}

/** The sha256 hex digest of a tenant token: what is stored and looked up, never the token. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
