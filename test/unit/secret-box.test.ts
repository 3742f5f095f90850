import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decryptSecret, encryptSecret, fingerprint, hashToken } from '../../src/adapters/crypto/secret-box.js';
import { QuotaflowError } from '../../src/errors.js';

const key = randomBytes(32);
const SECRET = 'AIzaSy-very-secret-value-123';

function caught(fn: () => unknown): QuotaflowError {
  try {
    fn();
  } catch (err) {
    if (err instanceof QuotaflowError) return err;
    throw err;
  }
  throw new Error('expected a throw');
}

function flipChar(part: string): string {
  const c = part[0] === 'A' ? 'B' : 'A';
  return c + part.slice(1);
}

describe('secret box', () => {
  it('round-trips, with the v1 format and a fresh IV each time', () => {
    const a = encryptSecret(key, SECRET);
    const b = encryptSecret(key, SECRET);
    expect(a).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain(SECRET);
    expect(decryptSecret(key, a)).toBe(SECRET);
    expect(decryptSecret(key, encryptSecret(key, 'ünïcødé ✓'))).toBe('ünïcødé ✓');
  });

  it('detects tampering with the ciphertext, the tag or the IV', () => {
    const [v, iv, tag, body] = encryptSecret(key, SECRET).split('.') as [string, string, string, string];
    for (const boxed of [
      [v, iv, tag, flipChar(body)].join('.'),
      [v, iv, flipChar(tag), body].join('.'),
      [v, flipChar(iv), tag, body].join('.'),
      [v, iv, tag].join('.'),
      ['v2', iv, tag, body].join('.'),
    ]) {
      expect(caught(() => decryptSecret(key, boxed)).code).toBe('secret_undecryptable');
    }
  });

  it('refuses a wrong key, and no error message carries the plaintext or the key', () => {
    const boxed = encryptSecret(key, SECRET);
    const err = caught(() => decryptSecret(randomBytes(32), boxed));
    expect(err.code).toBe('secret_undecryptable');
    expect(err.message).toMatch(/QUOTAFLOW_SECRET/);
    for (const text of [err.message, err.stack ?? '', JSON.stringify(err)]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(key.toString('hex'));
      expect(text).not.toContain(key.toString('base64'));
    }
  });

  it('rejects keys that are not 32 bytes', () => {
    expect(caught(() => encryptSecret(randomBytes(16), SECRET)).code).toBe('config_invalid');
  });

  it('fingerprints and hashes without revealing the secret', () => {
    expect(fingerprint(SECRET)).toMatch(/^sha256:[0-9a-f]{12}$/);
    expect(fingerprint(SECRET)).toBe(fingerprint(SECRET));
    expect(fingerprint(SECRET)).not.toBe(fingerprint(`${SECRET}x`));
    // sha256("abc") is a published test vector
    expect(hashToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(fingerprint('abc')).toBe('sha256:ba7816bf8f01');
  });
});
