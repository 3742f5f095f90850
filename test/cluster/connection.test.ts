import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, redisWarnings, whenRedisReady, type ConnectOptions, type RedisClient } from '../../src/adapters/redis/connection.js';
import { freePort, startPrivateRedis } from '../../src/cli/demo/private-redis.js';
import { parseConfig, type RedisSettings } from '../../src/config.js';
import { ConfigError, DependencyError } from '../../src/errors.js';

/** connectRedis: the client each mode and profile opens, and how the profiles behave while Redis is away. */
const FAIL_FAST = { kind: 'fail-fast', commandTimeoutMs: 2_000, connectTimeoutMs: 2_000 } as const;
let dir: string;
let caFile: string;
const opened: RedisClient[] = [];
const open = (settings: RedisSettings, options?: ConnectOptions): RedisClient => {
  const c = connectRedis(settings, options);
  c.on('error', () => undefined);
  opened.push(c);
  return c;
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qf-conn-'));
  caFile = join(dir, 'ca.pem');
  await writeFile(caFile, '-----BEGIN CERTIFICATE-----\nnot a real bundle\n-----END CERTIFICATE-----\n');
});
afterAll(async () => {
  for (const c of opened) c.disconnect();
  await rm(dir, { recursive: true, force: true });
});

describe('the client each mode opens', () => {
  it('cluster: master reads, BullMQ-ready node options, and fail-fast without the offline queue', async () => {
    const settings = parseConfig({ REDIS_CLUSTER_NODES: '127.0.0.1:1,127.0.0.1:2', REDIS_USERNAME: 'app', REDIS_PASSWORD: 'pw' }).redis;
    const blocking = open(settings, { lazyConnect: true });
    if (!(blocking instanceof Cluster)) throw new Error('not a cluster client');
    expect(blocking.options).toMatchObject({ scaleReads: 'master', enableReadyCheck: true, enableOfflineQueue: true });
    expect(blocking.options.redisOptions).toMatchObject({ maxRetriesPerRequest: null, username: 'app', password: 'pw' });
    // without TLS, names resolve to addresses as usual
    const address = await new Promise<string>((resolve) => blocking.options.dnsLookup?.('localhost', (_err, a) => resolve(a)));
    expect(address).not.toBe('localhost');
    const failFast = open(settings, { lazyConnect: true, profile: FAIL_FAST });
    if (!(failFast instanceof Cluster)) throw new Error('not a cluster client');
    expect(failFast.options.enableOfflineQueue).toBe(false);
    expect(failFast.options.redisOptions).toMatchObject({ maxRetriesPerRequest: 1, commandTimeout: 2_000, connectTimeout: 2_000 });
  });

  it('cluster with TLS: the CA bundle is read, hosts are connected by name', () => {
    const settings = parseConfig({ REDIS_CLUSTER_NODES: 'node-a.example:7000', REDIS_TLS: 'true', REDIS_TLS_CA_FILE: caFile }).redis;
    const c = open(settings, { lazyConnect: true });
    if (!(c instanceof Cluster)) throw new Error('not a cluster client');
    expect(String(c.options.redisOptions?.tls?.ca)).toContain('not a real bundle');
    expect(c.options.redisOptions?.tls?.rejectUnauthorized).toBeUndefined();
    let resolved = '';
    c.options.dnsLookup?.('node-a.example', (_err, address) => (resolved = address));
    expect(resolved).toBe('node-a.example');
    expect(redisWarnings(settings)).toEqual([]);
  });

  it('sentinel: asks the sentinels for the named master, with TLS towards both', () => {
    const settings = parseConfig({ REDIS_SENTINELS: 's1:26379,s2:26379', REDIS_SENTINEL_NAME: 'mymaster', REDIS_TLS: 'true', REDIS_TLS_INSECURE: 'true' }).redis;
    const c = open(settings, { lazyConnect: true });
    if (!(c instanceof Redis)) throw new Error('not a server client');
    expect(c.options).toMatchObject({ name: 'mymaster', sentinels: [{ host: 's1', port: 26379 }, { host: 's2', port: 26379 }], enableTLSForSentinelMode: true });
    expect(c.options.tls?.rejectUnauthorized).toBe(false);
    expect(c.options.sentinelTLS?.rejectUnauthorized).toBe(false);
    expect(redisWarnings(settings).join('\n')).toMatch(/REDIS_TLS_INSECURE/);
  });

  it('a CA bundle that cannot be read is a configuration error naming the variable', () => {
    const settings = parseConfig({ REDIS_URL: 'rediss://cache:6380', REDIS_TLS_CA_FILE: join(dir, 'missing.pem') }).redis;
    expect(() => connectRedis(settings, { lazyConnect: true })).toThrow(ConfigError);
    expect(() => connectRedis(settings, { lazyConnect: true })).toThrow(/REDIS_TLS_CA_FILE: cannot read .*missing\.pem/);
  });
});

describe('the profiles while Redis is away', () => {
  it('blocking waits for the server and then answers; fail-fast fails at once', async () => {
    const port = await freePort();
    const settings = parseConfig({ REDIS_URL: `redis://127.0.0.1:${port}` }).redis;
    const blocking = open(settings);
    const failFast = open(settings, { profile: FAIL_FAST });
    const waited = blocking.ping();
    await expect(failFast.ping()).rejects.toThrow();
    await expect(whenRedisReady(failFast, settings.display, 300)).rejects.toThrow(DependencyError);
    await expect(whenRedisReady(failFast, settings.display, 300)).rejects.toThrow(`127.0.0.1:${port}`);
    const server = await startPrivateRedis({ port });
    try {
      expect(await waited).toBe('PONG');
      await whenRedisReady(failFast, settings.display, 10_000);
      expect(await failFast.ping()).toBe('PONG');
    } finally {
      blocking.disconnect();
      failFast.disconnect();
      await server.stop();
    }
  });
});
