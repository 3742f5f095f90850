/**
 * The noisy neighbour: one tenant enqueues a large backlog at once, a
 * second tenant then sends a few messages at a steady pace; how long does
 * the quiet tenant wait for a worker? Run twice on the same stand-in
 * (100 ms per answer, ample quotas) and worker (concurrency 16): with fair
 * share (the producer's positions), and first in, first out (every job
 * priority 1).
 */
import { performance } from 'node:perf_hooks';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { startGenerationWorker } from '../../workers/generation.js';
import { GENERATION_QUEUE, type GenerationJobData, type GenerationResult } from '../../src/adapters/queue/job-contract.js';
import { createProducer } from '../../src/adapters/queue/producer.js';
import { redisKeys } from '../../src/adapters/redis/keys.js';
import { createLogger } from '../../src/logger.js';
import { startSimulator } from '../../src/simulator/index.js';
import { openSystem } from '../../src/system.js';
import { fleetSpec, standInConfig } from '../harness/configs.js';
import { openRunEnv } from '../harness/env.js';
import { promptFor } from '../harness/workload.js';
import { percentile } from '../quality/metrics.js';
import { parseScenario, type Scenario } from '../scenario.js';

export type FairnessVariant = 'fair-share' | 'fifo';

export interface NoisyNeighbourRun {
  variant: FairnessVariant;
  noisyJobs: number;
  quietJobs: number;
  concurrency: number;
  latencyMs: number;
  /** enqueue to the first worker taking the job, quiet tenant */
  quietWaitMs: { p50: number | null; p99: number | null; max: number | null };
  /** enqueue to completion, quiet tenant */
  quietLatencyMs: { p50: number | null; p99: number | null };
  /** noisy jobs a worker took between the quiet tenant's first enqueue and its last job's start */
  noisyStartedMeanwhile: number;
  elapsedMs: number;
}

const FLASH = 'gemini-2.5-flash';
const LATENCY_MS = 100;

export const NOISY_NEIGHBOUR: Scenario = parseScenario({
  name: 'noisy-neighbour',
  description: 'tenant "noisy" enqueues its backlog at once; tenant "quiet" then sends one message every 100 ms',
  models: [FLASH],
  defaultLimits: { [FLASH]: { rpm: 1_000_000, tpm: 1_000_000_000, rpd: 10_000_000 } },
  projects: { pc: {} },
  tenants: [
    { id: 'noisy', keyMode: 'central-only' },
    { id: 'quiet', keyMode: 'central-only' },
  ],
  keys: [{ id: 'c1', tenant: null, project: 'pc' }],
  standIn: { latencyMs: { min: LATENCY_MS, max: LATENCY_MS } },
  workload: { messages: 1, arrival: { kind: 'burst' } },
});

interface Times {
  enqueuedAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

async function times(redis: Redis, prefix: string, ids: readonly string[]): Promise<Times[]> {
  const keys = redisKeys(prefix);
  const replies = (await redis.pipeline(ids.map((id) => ['hmget', keys.job(GENERATION_QUEUE, id), 'timestamp', 'processedOn', 'finishedOn'])).exec()) ?? [];
  return replies.map(([, v]) => {
    const [t, p, f] = Array.isArray(v) ? v.map((x) => (typeof x === 'string' ? Number(x) : null)) : [];
    return { enqueuedAt: t ?? 0, startedAt: p ?? null, finishedAt: f ?? null };
  });
}

export async function runNoisyNeighbour(opts: { variant: FairnessVariant; noisy: number; quiet: number; concurrency: number; redisUrl: string }): Promise<NoisyNeighbourRun> {
  const s = NOISY_NEIGHBOUR;
  const env = await openRunEnv(`nn-${opts.variant}`, opts.redisUrl);
  const sim = await startSimulator(standInConfig(s), { port: 0 });
  const config = env.config({ geminiBaseUrl: sim.url });
  const sys = await openSystem(config, createLogger({ level: config.logLevel, name: 'bench', destination: process.stderr }), { migrate: false });
  const redis = new Redis(opts.redisUrl);
  const queue = new Queue<GenerationJobData, GenerationResult>(GENERATION_QUEUE, { connection: redis, prefix: env.prefix });
  const producer = createProducer({ redis, keys: redisKeys(env.prefix), queue, fairShare: opts.variant === 'fair-share' });
  let worker: Awaited<ReturnType<typeof startGenerationWorker>> | undefined;
  try {
    await sys.admin.applyFleet(fleetSpec(s), { prune: true });
    worker = await startGenerationWorker(sys, { concurrency: opts.concurrency });
    const t0 = performance.now();
    const noisy: string[] = [];
    for (let i = 0; i < opts.noisy; i += 200) {
      const batch = await Promise.all(Array.from({ length: Math.min(200, opts.noisy - i) }, (_, j) => producer.enqueue({ tenantId: 'noisy', contents: promptFor(i + j, 'noisy', 400) })));
      noisy.push(...batch.map((b) => b.jobId));
    }
    await new Promise((r) => setTimeout(r, 1_000));
    const quiet: string[] = [];
    for (let i = 0; i < opts.quiet; i++) {
      quiet.push((await producer.enqueue({ tenantId: 'quiet', contents: promptFor(i, 'quiet', 400) })).jobId);
      await new Promise((r) => setTimeout(r, 100));
    }
    const deadline = Date.now() + 300_000;
    let q = await times(redis, env.prefix, quiet);
    while (q.some((t) => t.finishedAt === null)) {
      if (Date.now() > deadline) throw new Error(`${opts.variant}: the quiet tenant's jobs did not finish in 300 s`);
      await new Promise((r) => setTimeout(r, 200));
      q = await times(redis, env.prefix, quiet);
    }
    const elapsedMs = performance.now() - t0;
    const firstQuiet = Math.min(...q.map((t) => t.enqueuedAt));
    const lastQuietStart = Math.max(...q.map((t) => t.startedAt ?? 0));
    const n = await times(redis, env.prefix, noisy);
    const waits = q.map((t) => (t.startedAt ?? 0) - t.enqueuedAt).sort((a, b) => a - b);
    const latencies = q.map((t) => (t.finishedAt ?? 0) - t.enqueuedAt).sort((a, b) => a - b);
    return {
      variant: opts.variant,
      noisyJobs: opts.noisy,
      quietJobs: opts.quiet,
      concurrency: opts.concurrency,
      latencyMs: LATENCY_MS,
      quietWaitMs: { p50: percentile(waits, 50), p99: percentile(waits, 99), max: waits.at(-1) ?? null },
      quietLatencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99) },
      noisyStartedMeanwhile: n.filter((t) => t.startedAt !== null && t.startedAt >= firstQuiet && t.startedAt <= lastQuietStart).length,
      elapsedMs,
    };
  } finally {
    // the rest of the noisy backlog is abandoned: the prefix goes with the run
    await worker?.close(1_000);
    await queue.close();
    redis.disconnect();
    await sys.close();
    await sim.close();
    await env.cleanup();
  }
}
