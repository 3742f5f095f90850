import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createKeyring, keyIdOf } from '../../src/adapters/crypto/secret-box.js';
import { ConfigError, parseConfig } from '../../src/config.js';

const hexA = randomBytes(32).toString('hex');
const hexB = randomBytes(32).toString('hex');
const hexC = randomBytes(32).toString('hex');

function configError(env: Record<string, string>): string {
  try {
    parseConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('keyring from the configuration', () => {
  it('is the current key alone without QUOTAFLOW_SECRET_PREVIOUS, and absent without QUOTAFLOW_SECRET', () => {
    const c = parseConfig({ QUOTAFLOW_SECRET: hexA });
    expect(c.keyring?.currentId).toBe(keyIdOf(Buffer.from(hexA, 'hex')));
    expect(c.keyring?.previousIds).toEqual([]);
    expect(c.keyring?.currentKey().equals(c.secretKey ?? Buffer.alloc(0))).toBe(true);
    expect(parseConfig({}).keyring).toBeUndefined();
  });

  it('adds the previous keys (comma-separated, spaces and case tolerated) for decrypting, the current one still encrypting', () => {
    const c = parseConfig({ QUOTAFLOW_SECRET: hexC, QUOTAFLOW_SECRET_PREVIOUS: ` ${hexA.toUpperCase()} ,${hexB}` });
    const ids = [hexA, hexB].map((h) => keyIdOf(Buffer.from(h, 'hex')));
    expect(c.keyring?.currentId).toBe(keyIdOf(Buffer.from(hexC, 'hex')));
    expect(c.keyring?.previousIds).toEqual(ids);
    expect(c.keyring?.key(ids[1] ?? '')?.toString('hex')).toBe(hexB);
    expect(c.keyring?.key('00000000')).toBeUndefined();
  });

  it('never prints key material when the keyring is serialised', () => {
    const c = parseConfig({ QUOTAFLOW_SECRET: hexC, QUOTAFLOW_SECRET_PREVIOUS: hexA });
    const shown = JSON.stringify(c.keyring);
    for (const h of [hexA, hexC]) expect(shown).not.toContain(h);
    expect(shown).toContain(keyIdOf(Buffer.from(hexA, 'hex')));
  });

  it('lists every problem of QUOTAFLOW_SECRET_PREVIOUS by position, never echoing a value', () => {
    const msg = configError({ QUOTAFLOW_SECRET: hexA, QUOTAFLOW_SECRET_PREVIOUS: `${hexB},not-hex-secretish,${hexA},${hexB}`, LOG_LEVEL: 'loud' });
    expect(msg).toMatch(/QUOTAFLOW_SECRET_PREVIOUS: entry 2 must be 64 hex/);
    expect(msg).toMatch(/entry 3 is QUOTAFLOW_SECRET itself/);
    expect(msg).toMatch(/entry 4 repeats entry 1/);
    expect(msg).toContain('LOG_LEVEL');
    for (const v of [hexA, hexB, 'not-hex-secretish']) expect(msg).not.toContain(v);
  });

  it('refuses previous keys without a current one', () => {
    expect(configError({ QUOTAFLOW_SECRET_PREVIOUS: hexA })).toMatch(/QUOTAFLOW_SECRET_PREVIOUS: needs QUOTAFLOW_SECRET/);
  });

  it('refuses, from code too, a current key repeated among the previous and keys of the wrong size', () => {
    const a = Buffer.from(hexA, 'hex');
    expect(() => createKeyring(a, [Buffer.from(hexB, 'hex'), a])).toThrow(/entry 2 is the current key/);
    expect(() => createKeyring(a, [randomBytes(16)])).toThrow(/entry 1 is not 32 bytes/);
    expect(() => createKeyring(randomBytes(31))).toThrow(ConfigError);
  });
});
