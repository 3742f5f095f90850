import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCounterFamilies } from '../../src/adapters/metrics/read-counters.js';
import { createRedisMetricsRecorder } from '../../src/adapters/metrics/redis-recorder.js';
import { connectRedis, hashTagPrefix, whenRedisReady, type RedisClient } from '../../src/adapters/redis/connection.js';
import { parseConfig } from '../../src/config.js';
import { startRedisCluster, type LocalCluster } from '../helpers/redis-cluster.js';
import { testPrefix } from '../helpers/redis.js';

/**
 * The shared metric counters on a cluster: the recorder writes every family
 * in one pipeline and the reader reads them in one, which a cluster accepts
 * only for keys of one slot, so they too need the hash-tagged prefix.
 */
let cluster: LocalCluster;
let conn: RedisClient;
// the recorder and reader take a `Redis` today; a Cluster offers the pipeline
// and hash commands they use. Cast here only, until they take `Redis | Cluster`.
const asRedis = (c: RedisClient): Redis => c as Redis;

beforeAll(async () => {
  cluster = await startRedisCluster();
  const settings = parseConfig({ REDIS_CLUSTER_NODES: cluster.nodes.join(',') }).redis;
  conn = connectRedis(settings);
  await whenRedisReady(conn, settings.display, 10_000);
});
afterAll(async () => {
  conn?.disconnect();
  await cluster?.stop();
});

const record = async (prefix: string): Promise<void> => {
  const rec = createRedisMetricsRecorder(asRedis(conn), prefix, { flushMs: 60_000 });
  for (let i = 0; i < 3; i++) rec.upstream({ model: 'm1', keyId: 'k1', projectId: 'p1', outcome: 'success', latencyMs: 120, promptTokens: 10, candidatesTokens: 5, central: false });
  rec.finished({ tenantId: 'acme', outcome: 'completed' });
  await rec.flush();
  await rec.stop();
};

describe('metric counters on a cluster', () => {
  it('flush and read back every family under the hash-tagged prefix', async () => {
    const prefix = hashTagPrefix(testPrefix('cl-metrics'), 'cluster');
    await record(prefix);
    const families = await readCounterFamilies(asRedis(conn), prefix);
    const value = (name: string): number => families.find((f) => f.name === name)?.samples.reduce((s, x) => s + x.value, 0) ?? -1;
    expect(value('quotaflow_upstream_requests_total')).toBe(3);
    expect(value('quotaflow_upstream_tokens_total')).toBe(45);
    expect(value('quotaflow_jobs_total')).toBe(1);
  });

  it('without the tag the families land in several slots and the pipelines are refused', async () => {
    const prefix = testPrefix('cl-metrics');
    await record(prefix);
    await expect(readCounterFamilies(asRedis(conn), prefix)).rejects.toThrow(/same slot/);
  });
});
