import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { ConfigError, SecretError } from '../../errors.js';

/**
 * Secrets at rest: AES-256-GCM with a random 12-byte IV per value. The boxed
 * form is versioned so the scheme can change without guessing old formats.
 */
const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

function requireKey(key: Buffer): void {
  // The message names the expected size only: never the key itself.
  if (key.length !== 32) throw new ConfigError('the secret key must be 32 bytes (QUOTAFLOW_SECRET: 64 hex characters)');
}

/** Encrypts `plaintext` under a 32-byte key; returns `v1.<iv>.<tag>.<ciphertext>` (base64url parts). */
export function encryptSecret(key: Buffer, plaintext: string): string {
  requireKey(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [VERSION, iv.toString('base64url'), tag.toString('base64url'), body.toString('base64url')].join('.');
}

/** Decrypts a value from encryptSecret; throws SecretError (no secret in the message) when the key is wrong or the value was altered. */
export function decryptSecret(key: Buffer, boxed: string): string {
  requireKey(key);
  const parts = boxed.split('.');
  const [version, ivPart, tagPart, bodyPart] = parts;
  if (parts.length !== 4 || version !== VERSION || ivPart === undefined || tagPart === undefined || bodyPart === undefined) {
    throw undecryptable('unrecognised format');
  }
  const iv = Buffer.from(ivPart, 'base64url');
  const tag = Buffer.from(tagPart, 'base64url');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw undecryptable('unrecognised format');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(Buffer.from(bodyPart, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    // The cause is dropped on purpose: crypto errors are uninformative and we keep the message secret-free.
    throw undecryptable('wrong QUOTAFLOW_SECRET or altered value');
  }
}

function undecryptable(why: string): SecretError {
  return new SecretError(`stored secret cannot be decrypted (${why})`);
}

/** A short, non-reversible identifier of a secret (`sha256:` + 12 hex), safe to show and log. */
export function fingerprint(secret: string): string {
  return `sha256:${createHash('sha256').update(secret, 'utf8').digest('hex').slice(0, 12)}`;
}

/** The sha256 hex digest of a tenant token: what is stored and looked up, never the token. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
