import { Queue, QueueEvents, Worker } from 'bullmq';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, hashTagPrefix, whenRedisReady, type ConnectOptions, type RedisClient } from '../../src/adapters/redis/connection.js';
import { redisKeys } from '../../src/adapters/redis/keys.js';
import { parseConfig, type RedisSettings } from '../../src/config.js';
import { startRedisCluster, type LocalCluster } from '../helpers/redis-cluster.js';
import { testPrefix } from '../helpers/redis.js';

/**
 * BullMQ on a real Redis Cluster with quotaflow's hash-tagged prefix: a
 * queue, a worker and an events reader, each on its own connection shaped
 * the way the processes open theirs.
 */
const JOBS = 200;
const QUEUE = 'generation';
let cluster: LocalCluster;
let settings: RedisSettings;
const prefix = hashTagPrefix(testPrefix('cl-bullmq'), 'cluster');
const opened: RedisClient[] = [];
const open = (options?: ConnectOptions): RedisClient => {
  const c = connectRedis(settings, options);
  opened.push(c);
  return c;
};
const asCluster = (c: RedisClient): Cluster => {
  if (!(c instanceof Cluster)) throw new Error('cluster settings opened a single-server connection');
  return c;
};

beforeAll(async () => {
  cluster = await startRedisCluster();
  settings = parseConfig({ REDIS_CLUSTER_NODES: cluster.nodes.join(',') }).redis;
});
afterAll(async () => {
  for (const c of opened) c.disconnect();
  await cluster?.stop();
});

describe('BullMQ on a Redis Cluster', () => {
  it(`a worker processes all ${JOBS} jobs of a queue and the events reader sees every completion`, async () => {
    // the producer side as the API opens it; the worker and the reader block, so they wait out outages
    const queue = new Queue<{ n: number }, { doubled: number }>(QUEUE, { connection: open({ profile: { kind: 'fail-fast', commandTimeoutMs: 5_000, connectTimeoutMs: 5_000 } }), prefix });
    const events = new QueueEvents<{ doubled: number }>(QUEUE, { connection: open(), prefix, lastEventId: '0-0' });
    const completed = new Map<string, number>();
    const allSeen = new Promise<void>((resolve) => {
      events.on('completed', ({ jobId, returnvalue }) => {
        completed.set(jobId, returnvalue.doubled);
        if (completed.size === JOBS) resolve();
      });
    });
    await events.waitUntilReady();
    const worker = new Worker<{ n: number }, { doubled: number }>(QUEUE, async (job) => ({ doubled: job.data.n * 2 }), { connection: open(), prefix, concurrency: 8 });
    try {
      const added = await queue.addBulk(Array.from({ length: JOBS }, (_, n) => ({ name: 'double', data: { n } })));
      expect(added).toHaveLength(JOBS);
      await allSeen;
      expect(await queue.getJobCounts('completed', 'failed', 'wait', 'active')).toEqual({ completed: JOBS, failed: 0, wait: 0, active: 0 });
      const doubled = [...completed.values()].sort((a, b) => a - b);
      expect(doubled).toEqual(Array.from({ length: JOBS }, (_, n) => n * 2));
    } finally {
      await worker.close();
      await events.close();
      await queue.close();
    }
  });

  it("keeps every key of the queue in quotaflow's one slot, on one master", async () => {
    const conn = asCluster(open());
    await whenRedisReady(conn, settings.display, 10_000);
    const holders: Array<{ node: string; keys: string[] }> = [];
    for (const node of conn.nodes('master')) {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await node.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        cursor = next;
        keys.push(...batch);
      } while (cursor !== '0');
      if (keys.length) holders.push({ node: `${node.options.host}:${node.options.port}`, keys });
    }
    expect(holders).toHaveLength(1);
    const keys = holders[0]?.keys ?? [];
    expect(keys.length).toBeGreaterThan(JOBS);
    const slots = new Set(await Promise.all([...keys, redisKeys(prefix).global].map((k) => conn.cluster('KEYSLOT', k))));
    expect(slots.size).toBe(1);
  });

  it('carries fleet announcements over pub/sub through a duplicated connection', async () => {
    const conn = open();
    const sub = conn.duplicate();
    opened.push(sub);
    const channel = redisKeys(prefix).fleetVersion;
    const heard = new Promise<string>((resolve) => sub.on('message', (_ch: string, message: string) => resolve(message)));
    await sub.subscribe(channel);
    await conn.set(channel, 'v42');
    await conn.publish(channel, 'v42');
    expect(await heard).toBe('v42');
    expect(await conn.get(channel)).toBe('v42');
  });
});
