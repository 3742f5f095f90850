import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster, Redis } from 'ioredis';
import { createClient, type QuotaflowClient } from '../../src/adapters/queue/client.js';
import { hashTagPrefix } from '../../src/adapters/redis/connection.js';
import { startSimulator, type SimulatorConfig, type SimulatorHandle, type StartOptions } from '../../src/simulator/index.js';
import { ROOT, applyFleetFile, runCli, startWorkerProcess, type WorkerProcess } from './cli-process.js';
import { createTestDatabase } from './postgres.js';
import { startRedisCluster, type LocalCluster } from './redis-cluster.js';
import { TEST_REDIS_URL, dropPrefix, testPrefix } from './redis.js';

export { ROOT, type WorkerProcess };

export interface Stack {
  sim: SimulatorHandle;
  client: QuotaflowClient;
  prefix: string;
  env: Record<string, string>;
  redis: Redis;
  /** with `cluster: true`: the local Redis Cluster every process uses, a client to it, and the hash-tagged prefix keys carry */
  cluster?: { nodes: string[]; redis: Cluster; keyPrefix: string };
  workers: WorkerProcess[];
  /** runs `quotaflow <args>` to completion; returns exit code and output */
  cli(args: string[], extraEnv?: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }>;
  startWorker(args?: string[]): Promise<WorkerProcess>;
  applyFleet(fleet: unknown, args?: string[]): Promise<void>;
  logs(): string;
  stop(): Promise<void>;
}

type StackOptions = { name: string; sim: SimulatorConfig; env?: Record<string, string>; simOptions?: StartOptions; cluster?: boolean; workerReadyMs?: number };

/** Everything an end-to-end test needs: fresh database and prefix, the stand-in, real worker processes (with `cluster`, on a local Redis Cluster). */
export async function startStack(opts: StackOptions): Promise<Stack> {
  const local: LocalCluster | null = opts.cluster ? await startRedisCluster() : null;
  try {
    return await buildStack(opts, local);
  } catch (err) {
    // a stack that fails to start leaves no cluster behind
    await local?.stop();
    throw err;
  }
}

async function buildStack(opts: StackOptions, local: LocalCluster | null): Promise<Stack> {
  const db = await createTestDatabase();
  const prefix = testPrefix(opts.name);
  const sim = await startSimulator(opts.sim, { ...opts.simOptions, port: 0 });
  const dir = await mkdtemp(join(tmpdir(), 'qf-e2e-'));
  const env: Record<string, string> = {
    ...(local ? { REDIS_CLUSTER_NODES: local.nodes.join(',') } : { REDIS_URL: TEST_REDIS_URL }),
    DATABASE_URL: db.url,
    GEMINI_BASE_URL: sim.url,
    QUOTAFLOW_SECRET: randomBytes(32).toString('hex'),
    QUOTAFLOW_PREFIX: prefix,
    QUOTAFLOW_DATA_DIR: dir,
    LOG_LEVEL: 'info',
    ...opts.env,
  };
  const workers: WorkerProcess[] = [];
  const allOutput: Array<() => string> = [];

  const collect = (output: () => string): void => void allOutput.push(output);

  const stack: Stack = {
    sim,
    client: createClient(local ? { clusterNodes: local.nodes, prefix } : { redisUrl: TEST_REDIS_URL, prefix }),
    prefix,
    env,
    redis: new Redis(TEST_REDIS_URL),
    ...(local ? { cluster: { nodes: local.nodes, redis: new Cluster(local.nodes.map((n) => ({ host: n.split(':')[0], port: Number(n.split(':')[1]) }))), keyPrefix: hashTagPrefix(prefix, 'cluster') } } : {}),
    workers,
    cli: (args, extraEnv = {}) => runCli(args, { ...env, ...extraEnv }, collect),
    async startWorker(args = []) {
      // maintenance (health probes) would add stand-in calls the tests count; it has tests of its own
      // a loaded machine (shared cores) may take a while to start a process: the ceiling only bounds a failure
      const w = await startWorkerProcess(['--no-maintenance', ...args], env, { onOutput: collect, readyTimeoutMs: opts.workerReadyMs ?? 60_000 });
      workers.push(w);
      return w;
    },
    applyFleet: (fleet, args = []) => applyFleetFile(dir, fleet, args, (a) => stack.cli(a)),
    logs: () => allOutput.map((o) => o()).join('\n'),
    async stop() {
      // kept for diagnosis: every process's output of this run
      await mkdir(join(ROOT, 'test-artifacts'), { recursive: true });
      await writeFile(join(ROOT, 'test-artifacts', `${opts.name}.log`), stack.logs());
      for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGTERM');
      await Promise.all(workers.map((w) => w.exited));
      await stack.client.close();
      await sim.close();
      await dropPrefix(prefix);
      stack.redis.disconnect();
      stack.cluster?.redis.disconnect();
      await local?.stop();
      await db.drop();
    },
  };
  return stack;
}

/** Every key and value under a prefix, as one string (to search for secrets). */
export async function dumpRedis(redis: Redis, prefix: string): Promise<string> {
  const parts: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    for (const k of keys) {
      parts.push(k);
      const type = await redis.type(k);
      if (type === 'string') parts.push((await redis.get(k)) ?? '');
      else if (type === 'hash') parts.push(JSON.stringify(await redis.hgetall(k)));
      else if (type === 'list') parts.push(JSON.stringify(await redis.lrange(k, 0, -1)));
      else if (type === 'set') parts.push(JSON.stringify(await redis.smembers(k)));
      else if (type === 'zset') parts.push(JSON.stringify(await redis.zrange(k, 0, -1)));
      else if (type === 'stream') parts.push(JSON.stringify(await redis.xrange(k, '-', '+')));
    }
  } while (cursor !== '0');
  return parts.join('\n');
}
