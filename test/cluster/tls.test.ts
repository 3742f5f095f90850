import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, hashTagPrefix, whenRedisReady, type RedisClient } from '../../src/adapters/redis/connection.js';
import { freePort } from '../../src/cli/demo/private-redis.js';
import { parseConfig } from '../../src/config.js';
import { startRedisCluster, type LocalCluster } from '../helpers/redis-cluster.js';
import { makeTestCerts, type TestCerts } from '../helpers/tls-certs.js';

/**
 * TLS for real: a server and a cluster whose certificates a throw-away CA
 * signed for the name localhost only. The CA bundle from REDIS_TLS_CA_FILE
 * makes them trusted; without it they are refused, unless verification is
 * switched off. A cluster client that resolved names to addresses would
 * fail to verify the nodes, so the cluster test also proves it keeps names.
 */
const FAIL_FAST = { profile: { kind: 'fail-fast', commandTimeoutMs: 3_000, connectTimeoutMs: 3_000 } } as const;
let dir: string;
let certs: TestCerts;
let serverPort: number;
let stopServer: () => Promise<void>;
let cluster: LocalCluster;
const opened: RedisClient[] = [];

const openFrom = (env: Record<string, string>): RedisClient => {
  const c = connectRedis(parseConfig(env).redis, FAIL_FAST);
  c.on('error', () => undefined);
  opened.push(c);
  return c;
};
const readyAndPing = async (c: RedisClient, timeoutMs = 5_000): Promise<string> => {
  await whenRedisReady(c, 'the test server', timeoutMs);
  return c.ping();
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qf-tls-'));
  certs = await makeTestCerts(dir, { nameOnly: true });
  serverPort = await freePort();
  const args = ['--port', '0', '--tls-port', String(serverPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  const tlsArgs = ['--tls-cert-file', certs.certFile, '--tls-key-file', certs.keyFile, '--tls-ca-cert-file', certs.caFile, '--tls-auth-clients', 'no'];
  const child = spawn('redis-server', [...args, ...tlsArgs], { stdio: 'ignore' });
  stopServer = () => new Promise((resolve) => (child.exitCode !== null ? resolve() : (child.once('exit', () => resolve()), child.kill('SIGTERM'))));
  const probe = openFrom({ REDIS_URL: `rediss://127.0.0.1:${serverPort}`, REDIS_TLS_INSECURE: 'true' });
  for (let i = 0; i < 100 && probe.status !== 'ready'; i++) await new Promise((r) => setTimeout(r, 50));
  // the nodes name each other by host name, as managed TLS clusters do, so clients must connect by name to verify them
  cluster = await startRedisCluster({ tls: certs, serverArgs: ['--cluster-announce-hostname', 'localhost', '--cluster-preferred-endpoint-type', 'hostname'] });
});
afterAll(async () => {
  for (const c of opened) c.disconnect();
  await cluster?.stop();
  await stopServer?.();
  await rm(dir, { recursive: true, force: true });
});

describe('TLS to one server', () => {
  it('trusts the server through REDIS_TLS_CA_FILE (rediss:// or REDIS_TLS=true)', async () => {
    expect(await readyAndPing(openFrom({ REDIS_URL: `rediss://localhost:${serverPort}`, REDIS_TLS_CA_FILE: certs.caFile }))).toBe('PONG');
    expect(await readyAndPing(openFrom({ REDIS_URL: `redis://localhost:${serverPort}`, REDIS_TLS: 'true', REDIS_TLS_CA_FILE: certs.caFile }))).toBe('PONG');
  });

  it('refuses a certificate no trusted CA signed, unless verification is off', async () => {
    // the reason the connection keeps failing is in the error
    await expect(readyAndPing(openFrom({ REDIS_URL: `rediss://localhost:${serverPort}` }), 1_000)).rejects.toThrow(/not ready within 1000 ms: .*certificate/);
    expect(await readyAndPing(openFrom({ REDIS_URL: `rediss://127.0.0.1:${serverPort}`, REDIS_TLS_INSECURE: 'true' }))).toBe('PONG');
  });
});

describe('TLS to a cluster', () => {
  it('reaches every master by its host name with the CA bundle, and runs a script on the tagged slot', async () => {
    const nodes = cluster.nodes.map((n) => n.replace('127.0.0.1', 'localhost')).join(',');
    const c = openFrom({ REDIS_CLUSTER_NODES: nodes, REDIS_TLS: 'true', REDIS_TLS_CA_FILE: certs.caFile });
    await whenRedisReady(c, 'the test cluster', 10_000);
    // keys spread over the three masters: every node connection must verify
    const keys = Array.from({ length: 30 }, (_, i) => `tls-${i}`);
    for (const k of keys) await c.set(k, k);
    expect(await Promise.all(keys.map((k) => c.get(k)))).toEqual(keys);
    const prefix = hashTagPrefix('qf-tls', 'cluster');
    expect(await c.eval("return redis.call('INCR', KEYS[1]) + redis.call('INCR', KEYS[2])", 2, `${prefix}:a`, `${prefix}:b`)).toBe(2);
  });

  it('refuses the cluster without the CA bundle', async () => {
    const c = openFrom({ REDIS_CLUSTER_NODES: cluster.nodes.map((n) => n.replace('127.0.0.1', 'localhost')).join(','), REDIS_TLS: 'true' });
    await expect(whenRedisReady(c, 'the test cluster', 2_000)).rejects.toThrow(/the test cluster was not ready/);
  });
});
