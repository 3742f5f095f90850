import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  createKeyring,
  decryptSecret,
  encryptSecret,
  fingerprint,
  hashToken,
  keyIdOf,
  reencryptSecret,
  storedFormat,
} from '../../src/adapters/crypto/secret-box.js';
import { QuotaflowError } from '../../src/errors.js';
import { v1Value } from '../helpers/rekey.js';

const keyA = randomBytes(32);
const keyB = randomBytes(32);
const ringA = createKeyring(keyA);
const SECRET = 'AIzaSy-very-secret-value-123';
const ROW = 'central-1';

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

/** The error's every rendering holds neither the secret nor any key. */
function expectNothingSecret(err: QuotaflowError): void {
  for (const text of [err.message, err.stack ?? '', JSON.stringify(err)]) {
    expect(text).not.toContain(SECRET);
    for (const k of [keyA, keyB]) {
      expect(text).not.toContain(k.toString('hex'));
      expect(text).not.toContain(k.toString('base64'));
      expect(text).not.toContain(k.toString('base64url'));
    }
  }
}

describe('secret box: the v2 format', () => {
  it('round-trips, naming the key by its id, with a fresh IV each time', () => {
    const a = encryptSecret(keyA, SECRET, ROW);
    const b = encryptSecret(keyA, SECRET, ROW);
    expect(a).toMatch(/^v2\.[0-9a-f]{8}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+$/);
    expect(a.split('.')[1]).toBe(keyIdOf(keyA));
    expect(storedFormat(a)).toEqual({ version: 'v2', keyId: keyIdOf(keyA) });
    expect(a).not.toBe(b);
    expect(a).not.toContain(SECRET);
    expect(decryptSecret(ringA, a, ROW)).toBe(SECRET);
    expect(decryptSecret(ringA, encryptSecret(keyA, 'ünïcødé ✓', ROW), ROW)).toBe('ünïcødé ✓');
  });

  it('derives distinct, stable, non-secret key ids', () => {
    expect(keyIdOf(keyA)).toMatch(/^[0-9a-f]{8}$/);
    expect(keyIdOf(keyA)).toBe(keyIdOf(Buffer.from(keyA)));
    expect(keyIdOf(keyA)).not.toBe(keyIdOf(keyB));
    // not a plain prefix of the key's own hash: the id is domain-separated
    expect(keyA.toString('hex')).not.toContain(keyIdOf(keyA));
  });

  it('detects tampering with the ciphertext, the tag, the IV or the shape', () => {
    const [v, id, iv, tag, body] = encryptSecret(keyA, SECRET, ROW).split('.') as [string, string, string, string, string];
    for (const boxed of [
      [v, id, iv, tag, flipChar(body)].join('.'),
      [v, id, iv, flipChar(tag), body].join('.'),
      [v, id, flipChar(iv), tag, body].join('.'),
      [v, id, iv, tag].join('.'),
      ['v3', id, iv, tag, body].join('.'),
      ['v1', id, iv, tag, body].join('.'),
    ]) {
      expect(caught(() => decryptSecret(ringA, boxed, ROW)).code).toBe('secret_undecryptable');
    }
  });

  it('binds the key id: a value relabelled to another key of the ring does not open', () => {
    const ring = createKeyring(keyA, [keyB]);
    const boxed = encryptSecret(keyB, SECRET, ROW);
    const relabelled = boxed.replace(`.${keyIdOf(keyB)}.`, `.${keyIdOf(keyA)}.`);
    expect(decryptSecret(ring, boxed, ROW)).toBe(SECRET);
    const err = caught(() => decryptSecret(ring, relabelled, ROW));
    expect(err.code).toBe('secret_undecryptable');
    expect(err.message).toContain('altered');
  });

  it('binds the key row: a value copied into another row does not open there', () => {
    const boxed = encryptSecret(keyA, SECRET, 'acme-1');
    expect(decryptSecret(ringA, boxed, 'acme-1')).toBe(SECRET);
    expect(caught(() => decryptSecret(ringA, boxed, 'central-1')).message).toMatch(/another key row/);
  });

  it('names the missing key id when the keyring lacks it, with no key material and no secret', () => {
    const boxed = encryptSecret(keyB, SECRET, ROW);
    const err = caught(() => decryptSecret(ringA, boxed, ROW));
    expect(err.code).toBe('secret_undecryptable');
    expect(err.message).toContain(`key id ${keyIdOf(keyB)}`);
    expect(err.message).toContain(keyIdOf(keyA));
    expect(err.message).toMatch(/QUOTAFLOW_SECRET_PREVIOUS/);
    expectNothingSecret(err);
  });

  it('rejects keys that are not 32 bytes', () => {
    expect(caught(() => encryptSecret(randomBytes(16), SECRET, ROW)).code).toBe('config_invalid');
  });
});

describe('secret box: v1 values and re-encryption', () => {
  it('still opens v1 values, with any key of the ring', () => {
    expect(decryptSecret(ringA, v1Value(keyA, SECRET), ROW)).toBe(SECRET);
    expect(decryptSecret(createKeyring(keyB, [keyA]), v1Value(keyA, SECRET), 'any-row')).toBe(SECRET);
    expect(storedFormat(v1Value(keyA, SECRET))).toEqual({ version: 'v1' });
  });

  it('refuses a v1 value none of the keys opens, naming the keys tried by id only', () => {
    const err = caught(() => decryptSecret(ringA, v1Value(keyB, SECRET), ROW));
    expect(err.code).toBe('secret_undecryptable');
    expect(err.message).toMatch(/QUOTAFLOW_SECRET/);
    expect(err.message).toContain(keyIdOf(keyA));
    expectNothingSecret(err);
  });

  it('re-encrypts v1 and previous-key values under the current key, and leaves current ones', () => {
    const ring = createKeyring(keyB, [keyA]);
    for (const old of [v1Value(keyA, SECRET), encryptSecret(keyA, SECRET, ROW)]) {
      const r = reencryptSecret(ring, old, ROW);
      if (r.kind !== 'reencrypted') throw new Error(`expected a re-encryption, got ${r.kind}`);
      expect(storedFormat(r.boxed)).toEqual({ version: 'v2', keyId: keyIdOf(keyB) });
      expect(decryptSecret(createKeyring(keyB), r.boxed, ROW)).toBe(SECRET);
    }
    expect(reencryptSecret(ring, encryptSecret(keyB, SECRET, ROW), ROW)).toEqual({ kind: 'current' });
  });

  it('reports what it cannot open with the key id it is stored under', () => {
    const stranger = randomBytes(32);
    const r = reencryptSecret(ringA, encryptSecret(stranger, SECRET, ROW), ROW);
    expect(r).toMatchObject({ kind: 'undecryptable', storedUnder: keyIdOf(stranger) });
    expect(reencryptSecret(ringA, v1Value(stranger, SECRET), ROW)).toMatchObject({ kind: 'undecryptable', storedUnder: 'v1' });
    expect(reencryptSecret(ringA, 'garbage', ROW)).toMatchObject({ kind: 'undecryptable', storedUnder: 'unrecognised' });
    // a value claiming the current key but altered is not "current"
    const [v, id, iv, tag, body] = encryptSecret(keyA, SECRET, ROW).split('.') as [string, string, string, string, string];
    const tampered = [v, id, iv, tag, flipChar(body)].join('.');
    expect(reencryptSecret(ringA, tampered, ROW)).toMatchObject({ kind: 'undecryptable', storedUnder: keyIdOf(keyA) });
  });
});

describe('fingerprints', () => {
  it('fingerprints and hashes without revealing the secret', () => {
    expect(fingerprint(SECRET)).toMatch(/^sha256:[0-9a-f]{12}$/);
    expect(fingerprint(SECRET)).toBe(fingerprint(SECRET));
    expect(fingerprint(SECRET)).not.toBe(fingerprint(`${SECRET}x`));
    // sha256("abc") is a published test vector
    expect(hashToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(fingerprint('abc')).toBe('sha256:ba7816bf8f01');
  });
});
