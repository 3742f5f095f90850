import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { hashTagPrefix } from '../../src/adapters/redis/connection.js';
import { ConfigError, parseConfig } from '../../src/config.js';

/** How the Redis variables choose a connection mode, and what they never reveal. */
const problemsOf = (env: Record<string, string>): string => {
  try {
    parseConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error('expected a configuration error');
};

describe('Redis settings', () => {
  it('default to one local server, as before', () => {
    const c = parseConfig({});
    expect(c.redis).toEqual({ mode: 'single', url: 'redis://127.0.0.1:6379', tls: undefined, auth: undefined, display: 'redis://127.0.0.1:6379' });
    expect(c.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(Object.isFrozen(c.redis)).toBe(true);
  });

  it('turn TLS on for a rediss:// URL or REDIS_TLS=true', () => {
    expect(parseConfig({ REDIS_URL: 'rediss://cache.example.com:6380' }).redis.tls).toEqual({ caFile: undefined, insecure: false });
    expect(parseConfig({ REDIS_URL: 'redis://cache:6379', REDIS_TLS: 'true', REDIS_TLS_CA_FILE: '/etc/ca.pem' }).redis.tls).toEqual({ caFile: '/etc/ca.pem', insecure: false });
    expect(parseConfig({ REDIS_TLS: 'false' }).redis.tls).toBeUndefined();
  });

  it('select cluster mode from REDIS_CLUSTER_NODES, with a display string in redisUrl', () => {
    const c = parseConfig({ REDIS_CLUSTER_NODES: ' 10.0.0.1:7000, redis-b.internal:7001 ,[fd00::3]:7002', REDIS_TLS: '1' });
    expect(c.redis).toMatchObject({
      mode: 'cluster',
      nodes: [{ host: '10.0.0.1', port: 7000 }, { host: 'redis-b.internal', port: 7001 }, { host: 'fd00::3', port: 7002 }],
      tls: { caFile: undefined, insecure: false },
    });
    expect(c.redisUrl).toBe('rediss+cluster://10.0.0.1:7000,redis-b.internal:7001,[fd00::3]:7002');
  });

  it('select Sentinel mode from REDIS_SENTINELS and REDIS_SENTINEL_NAME', () => {
    const c = parseConfig({ REDIS_SENTINELS: 's1:26379,s2:26379', REDIS_SENTINEL_NAME: 'mymaster' });
    expect(c.redis).toMatchObject({ mode: 'sentinel', sentinels: [{ host: 's1', port: 26379 }, { host: 's2', port: 26379 }], name: 'mymaster', tls: undefined });
    expect(c.redisUrl).toBe('redis+sentinel://s1:26379,s2:26379/mymaster');
  });

  it.each([
    [{ REDIS_URL: 'redis://a:6379', REDIS_CLUSTER_NODES: 'b:7000' }, ['REDIS_URL', 'REDIS_CLUSTER_NODES']],
    [{ REDIS_CLUSTER_NODES: 'b:7000', REDIS_SENTINELS: 's:26379', REDIS_SENTINEL_NAME: 'm' }, ['REDIS_CLUSTER_NODES', 'REDIS_SENTINELS']],
    [{ REDIS_URL: 'redis://a:6379', REDIS_SENTINEL_NAME: 'm', REDIS_SENTINELS: 's:1' }, ['REDIS_URL', 'REDIS_SENTINELS']],
  ])('refuse two connection modes at once, naming both: %o', (env, names) => {
    const msg = problemsOf(env);
    expect(msg).toMatch(/only one connection mode/);
    for (const name of names) expect(msg).toContain(name);
  });

  it('require both Sentinel variables', () => {
    expect(problemsOf({ REDIS_SENTINELS: 's:26379' })).toMatch(/REDIS_SENTINEL_NAME: required with REDIS_SENTINELS/);
    expect(problemsOf({ REDIS_SENTINEL_NAME: 'mymaster' })).toMatch(/REDIS_SENTINELS: required with REDIS_SENTINEL_NAME/);
  });

  it('list every problem at once: bad nodes, bad flags, TLS options without TLS, other variables', () => {
    const msg = problemsOf({ REDIS_CLUSTER_NODES: 'good:7000,nohost,b:99999,:7001', REDIS_TLS_INSECURE: 'yes', REDIS_TLS_CA_FILE: '/ca.pem', LOG_LEVEL: 'loud' });
    for (const bad of ['"nohost"', '"b:99999"', '":7001"']) expect(msg).toContain(bad);
    expect(msg).not.toContain('"good:7000"');
    expect(msg).toMatch(/REDIS_TLS_INSECURE: must be true or false/);
    expect(msg).toMatch(/REDIS_TLS_CA_FILE: applies only with TLS/);
    expect(msg).toContain('LOG_LEVEL');
    expect(problemsOf({ REDIS_CLUSTER_NODES: ' , ' })).toMatch(/REDIS_CLUSTER_NODES: lists no host:port/);
    expect(problemsOf({ REDIS_URL: 'rediss://a:6380', REDIS_TLS: 'false' })).toMatch(/REDIS_TLS: false contradicts the rediss:\/\/ scheme/);
  });

  it('never show credentials: not in redisUrl of other modes, display, JSON or inspect output', () => {
    const password = 'pw-do-not-print-7f3a';
    for (const env of [
      { REDIS_CLUSTER_NODES: 'a:7000', REDIS_USERNAME: 'app', REDIS_PASSWORD: password },
      { REDIS_SENTINELS: 's:26379', REDIS_SENTINEL_NAME: 'm', REDIS_PASSWORD: password },
    ]) {
      const c = parseConfig(env);
      expect(c.redis.auth?.password).toBe(password);
      for (const shown of [c.redisUrl, c.redis.display, JSON.stringify(c), inspect(c, { depth: 10 })]) expect(shown).not.toContain(password);
    }
    const single = parseConfig({ REDIS_URL: `redis://app:${password}@cache:6379/2` });
    expect(single.redis.display).toBe('redis://cache:6379/2');
    expect(single.redis.mode === 'single' && single.redis.url).toContain(password);
  });

  it('refuse credentials set twice, without echoing them', () => {
    const msg = problemsOf({ REDIS_URL: 'redis://:in-url-secret@cache:6379', REDIS_PASSWORD: 'in-env-secret' });
    expect(msg).toMatch(/REDIS_PASSWORD: REDIS_URL already carries one/);
    expect(msg).not.toMatch(/in-url-secret|in-env-secret/);
  });
});

describe('hashTagPrefix', () => {
  it('wraps the prefix in a hash tag on a cluster only, once', () => {
    expect(hashTagPrefix('quotaflow', 'cluster')).toBe('{quotaflow}');
    expect(hashTagPrefix('{quotaflow}', 'cluster')).toBe('{quotaflow}');
    expect(hashTagPrefix(hashTagPrefix('qf-a', 'cluster'), 'cluster')).toBe('{qf-a}');
    expect(hashTagPrefix('quotaflow', 'single')).toBe('quotaflow');
    expect(hashTagPrefix('quotaflow', 'sentinel')).toBe('quotaflow');
  });

  it("follows Redis's rule: an empty {} is no tag", () => {
    expect(hashTagPrefix('a{}b', 'cluster')).toBe('{a{}b}');
    expect(hashTagPrefix('a{b}c', 'cluster')).toBe('a{b}c');
  });
});
