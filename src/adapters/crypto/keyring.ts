import { createHash } from 'node:crypto';
import { ConfigError } from '../../errors.js';

/**
 * The keys that protect stored secrets: one current key (QUOTAFLOW_SECRET)
 * that encrypts, and previous keys (QUOTAFLOW_SECRET_PREVIOUS) kept to
 * decrypt values written before a rotation. Keys are named by a short id
 * derived from them, which is safe to store beside a value and to log.
 */
export interface Keyring {
  /** id of the key that encrypts */
  readonly currentId: string;
  /** ids of the keys kept for decrypting only, in the order configured */
  readonly previousIds: readonly string[];
  /** the current key; a method, so that logging or serialising a keyring never prints key material */
  currentKey(): Buffer;
  /** the key with this id, or undefined when the keyring lacks it */
  key(id: string): Buffer | undefined;
}

export const KEY_BYTES = 32;

// Domain separation: the id is a hash of the key under a label no other use of the key shares.
const KEY_ID_LABEL = 'quotaflow secret-box key id\0';

/** Whether `id` has the shape of a key id (8 lowercase hex characters). */
export const isKeyId = (id: string): boolean => /^[0-9a-f]{8}$/.test(id);

/** The key's id: 8 hex characters of SHA-256 over a label and the key. It reveals nothing usable about the key. */
export function keyIdOf(key: Buffer): string {
  requireKeySize(key, 'the key');
  return createHash('sha256').update(KEY_ID_LABEL, 'utf8').update(key).digest('hex').slice(0, 8);
}

function requireKeySize(key: Buffer, what: string): void {
  // The message names the expected size only: never the key itself.
  if (key.length !== KEY_BYTES) throw new ConfigError(`${what} must be 32 bytes (QUOTAFLOW_SECRET: 64 hex characters)`);
}

/**
 * A keyring of `current` and `previous` keys. ConfigError listing every
 * problem (a wrong size, the current key repeated among the previous ones,
 * a key listed twice); messages name positions and ids, never a key.
 */
export function createKeyring(current: Buffer, previous: readonly Buffer[] = []): Keyring {
  requireKeySize(current, 'QUOTAFLOW_SECRET');
  const problems = previous.flatMap((k, i) => (k.length === KEY_BYTES ? [] : [`QUOTAFLOW_SECRET_PREVIOUS entry ${i + 1} is not 32 bytes`]));
  if (problems.length) throw new ConfigError(`invalid keyring:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  const currentId = keyIdOf(current);
  const byId = new Map<string, Buffer>([[currentId, current]]);
  const previousIds: string[] = [];
  previous.forEach((k, i) => {
    const id = keyIdOf(k);
    if (id === currentId) problems.push(`QUOTAFLOW_SECRET_PREVIOUS entry ${i + 1} is the current key (QUOTAFLOW_SECRET, id ${id}): list only keys being retired`);
    else if (byId.has(id)) problems.push(`QUOTAFLOW_SECRET_PREVIOUS entry ${i + 1} repeats an earlier entry (id ${id})`);
    byId.set(id, k);
    previousIds.push(id);
  });
  if (problems.length) throw new ConfigError(`invalid keyring:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  return Object.freeze({
    currentId,
    previousIds: Object.freeze(previousIds),
    currentKey: () => current,
    key: (id: string) => byId.get(id),
  });
}

/** A keyring as given, or the keyring of one key (callers that only ever had QUOTAFLOW_SECRET). */
export function asKeyring(keys: Keyring | Buffer): Keyring {
  return Buffer.isBuffer(keys) ? createKeyring(keys) : keys;
}

/** `5e6f7a8b (current), 9c0d1e2f (previous)`: what a keyring holds, by id, for error messages. */
export function describeKeyring(keyring: Keyring): string {
  return [`${keyring.currentId} (current)`, ...keyring.previousIds.map((id) => `${id} (previous)`)].join(', ');
}
