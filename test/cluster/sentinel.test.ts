import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, whenRedisReady, type RedisClient } from '../../src/adapters/redis/connection.js';
import { createRedisLimiter } from '../../src/adapters/redis/limiter.js';
import { freePort, startPrivateRedis } from '../../src/cli/demo/private-redis.js';
import { parseConfig } from '../../src/config.js';
import { windowCosts } from '../../src/core/dimensions.js';

/** Sentinel mode for real: a master and one sentinel watching it, reached through REDIS_SENTINELS. */
let dir: string;
let master: Awaited<ReturnType<typeof startPrivateRedis>>;
let sentinel: ChildProcess;
let sentinelPort: number;
const opened: RedisClient[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qf-sentinel-'));
  master = await startPrivateRedis();
  sentinelPort = await freePort();
  const conf = join(dir, 'sentinel.conf');
  // sentinel rewrites its own file, so it must be one of ours
  await writeFile(conf, [`port ${sentinelPort}`, 'bind 127.0.0.1', `dir ${dir}`, `sentinel monitor qf-main 127.0.0.1 ${master.port} 1`, ''].join('\n'));
  sentinel = spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' });
  const probe = new Redis(sentinelPort, '127.0.0.1', { retryStrategy: () => 50 });
  probe.on('error', () => undefined);
  try {
    for (let i = 0; i < 100; i++) {
      const addr = await probe.call('SENTINEL', 'get-master-addr-by-name', 'qf-main').catch(() => null);
      if (Array.isArray(addr) && addr.length === 2) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    probe.disconnect();
  }
});
afterAll(async () => {
  for (const c of opened) c.disconnect();
  if (sentinel && sentinel.exitCode === null) {
    const exited = new Promise((r) => sentinel.once('exit', r));
    sentinel.kill('SIGTERM');
    await exited;
  }
  await master?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('Sentinel mode', () => {
  it('asks the sentinel for the master and runs the admission scripts there', async () => {
    const settings = parseConfig({ REDIS_SENTINELS: `127.0.0.1:${sentinelPort}`, REDIS_SENTINEL_NAME: 'qf-main' }).redis;
    const c = connectRedis(settings, { profile: { kind: 'fail-fast', commandTimeoutMs: 3_000, connectTimeoutMs: 3_000 } });
    opened.push(c);
    await whenRedisReady(c, settings.display, 10_000);
    if (!(c instanceof Redis)) throw new Error('sentinel settings opened a cluster client');
    const info = await c.info('server');
    expect(info).toMatch(new RegExp(`^tcp_port:${master.port}\\r?$`, 'm'));
    const limiter = createRedisLimiter(c, 'qf-sentinel');
    const group = { id: 'g', candidates: [{ scope: 'p1|m1', limits: { rpm: 2, tpm: 1000 } }] };
    const admitted = [];
    for (let i = 0; i < 3; i++) admitted.push((await limiter.admit(`r${i}`, windowCosts(1), [group])).admitted);
    expect(admitted).toEqual([true, true, false]);
  });

  it('refuses a master group the sentinel does not watch', async () => {
    const settings = parseConfig({ REDIS_SENTINELS: `127.0.0.1:${sentinelPort}`, REDIS_SENTINEL_NAME: 'no-such-group' }).redis;
    const c = connectRedis(settings, { profile: { kind: 'fail-fast', commandTimeoutMs: 1_000, connectTimeoutMs: 1_000 } });
    c.on('error', () => undefined);
    opened.push(c);
    await expect(whenRedisReady(c, settings.display, 1_500)).rejects.toThrow(/not ready within 1500 ms: .*No such master with that name/);
  });
});
