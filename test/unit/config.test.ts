import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.js';

describe('config', () => {
  it('applies defaults: local Redis, embedded database, Google upstream', () => {
    const c = parseConfig({});
    expect(c).toMatchObject({ redisUrl: 'redis://127.0.0.1:6379', databaseUrl: undefined, prefix: 'quotaflow', logLevel: 'info' });
    expect(c.geminiBaseUrl).toMatch(/^https:\/\/generativelanguage\.googleapis\.com/);
    expect(c.secretKey).toBeUndefined();
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('decodes QUOTAFLOW_SECRET into 32 bytes', () => {
    const c = parseConfig({ QUOTAFLOW_SECRET: 'ab'.repeat(32) });
    expect(c.secretKey?.length).toBe(32);
    expect(c.secretKey?.[0]).toBe(0xab);
  });

  it('treats empty variables as unset', () => {
    expect(parseConfig({ DATABASE_URL: '', REDIS_URL: '' }).databaseUrl).toBeUndefined();
  });

  it('rejects bad values with every problem named, and never echoes the secret', () => {
    const bad = 'not-hex-but-secretish';
    let err: unknown;
    try {
      parseConfig({ QUOTAFLOW_SECRET: bad, REDIS_URL: 'nope', LOG_LEVEL: 'loud', QUOTAFLOW_PREFIX: 'has space' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    for (const name of ['QUOTAFLOW_SECRET', 'REDIS_URL', 'LOG_LEVEL', 'QUOTAFLOW_PREFIX']) expect(msg).toContain(name);
    expect(msg).toContain('64 hex');
    expect(msg).not.toContain(bad);
  });
});
