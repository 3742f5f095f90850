/**
 * Throughput of quotaflow's full path against a naive worker (one fixed key,
 * no leasing, same queue, same Gemini adapter, same zero-latency stand-in
 * with ample quotas, same concurrency). Each run: pause the queue, enqueue
 * every message, start the worker, then time from resume to the last
 * completion. Redis commands (INFO commandstats) and Postgres statements
 * (wire counter) are taken from resume until the worker has closed.
 */
import { performance } from 'node:perf_hooks';
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { startGenerationWorker } from '../../workers/generation.js';
import { createGeminiPool } from '../../src/adapters/gemini/index.js';
import { createClient } from '../../src/adapters/queue/client.js';
import { GENERATION_QUEUE, type GenerationJobData, type GenerationResult } from '../../src/adapters/queue/job-contract.js';
import { parseJobData } from '../../src/adapters/queue/job-data.js';
import { connectRedis } from '../../src/adapters/redis/connection.js';
import { createLogger } from '../../src/logger.js';
import { startSimulator } from '../../src/simulator/index.js';
import { openSystem } from '../../src/system.js';
import { fleetSpec, standInConfig } from '../harness/configs.js';
import { openRunEnv } from '../harness/env.js';
import { promptFor } from '../harness/workload.js';
import { parseScenario, secretOf, type Scenario } from '../scenario.js';
import { startStatementCounter, viaCounter } from './pg-counter.js';
import { commandStats, diffCounts, summarise } from './redis-stats.js';

export type Variant = 'quotaflow' | 'naive';

export interface ThroughputRun {
  variant: Variant;
  round: number;
  messages: number;
  concurrency: number;
  elapsedMs: number;
  perSecond: number;
  failed: number;
  redis: ReturnType<typeof summarise>;
  pgStatements: number;
  pgPerMessage: number;
}

/** Ample quotas everywhere: 4 central keys in 4 projects, 2 models, one central-only tenant. */
export const OVERHEAD_SCENARIO: Scenario = parseScenario({
  name: 'overhead',
  models: ['gemini-2.5-pro', 'gemini-2.5-flash'],
  defaultLimits: {
    'gemini-2.5-pro': { rpm: 1_000_000, tpm: 1_000_000_000, rpd: 10_000_000 },
    'gemini-2.5-flash': { rpm: 1_000_000, tpm: 1_000_000_000, rpd: 10_000_000 },
  },
  projects: { 'p-1': {}, 'p-2': {}, 'p-3': {}, 'p-4': {} },
  tenants: [{ id: 'bench', keyMode: 'central-only' }],
  keys: [1, 2, 3, 4].map((i) => ({ id: `central-${i}`, tenant: null, project: `p-${i}` })),
  workload: { messages: 1, arrival: { kind: 'burst' } },
});

export async function runThroughput(opts: { variant: Variant; round: number; messages: number; concurrency: number; redisUrl: string; pgPort: number }): Promise<ThroughputRun> {
  const s = OVERHEAD_SCENARIO;
  const env = await openRunEnv(`ovh-${opts.variant}`, opts.redisUrl);
  const counter = await startStatementCounter({ host: '127.0.0.1', port: opts.pgPort });
  const sim = await startSimulator(standInConfig(s, { latencyMs: { min: 0, max: 0 }, faults: false }), { port: 0 });
  const config = env.config({ geminiBaseUrl: sim.url, databaseUrl: viaCounter(env.db.url, counter.port) });
  const logger = createLogger({ level: config.logLevel, name: 'bench', destination: process.stderr });
  const redis = new Redis(opts.redisUrl);
  const queue = new Queue(GENERATION_QUEUE, { connection: redis, prefix: env.prefix });
  const client = createClient({ redisUrl: opts.redisUrl, prefix: env.prefix });
  const sys = opts.variant === 'quotaflow' ? await openSystem(config, logger, { migrate: false }) : null;
  try {
    if (sys) {
      await sys.admin.applyFleet(fleetSpec(s), { prune: true });
    }
    await queue.pause();
    for (let i = 0; i < opts.messages; i += 100) {
      const n = Math.min(100, opts.messages - i);
      await Promise.all(Array.from({ length: n }, (_, j) => client.enqueue({ tenantId: 'bench', contents: promptFor(i + j, 'bench', 400) })));
    }

    let done = 0;
    let failed = 0;
    let finish: () => void = () => undefined;
    const allDone = new Promise<void>((r) => (finish = r));
    const onDone = (ok: boolean): void => {
      done++;
      if (!ok) failed++;
      if (done === opts.messages) finish();
    };
    let close: () => Promise<void>;
    if (sys) {
      const w = await startGenerationWorker(sys, { concurrency: opts.concurrency });
      w.worker.on('completed', () => onDone(true));
      w.worker.on('failed', (job) => job && job.finishedOn !== undefined && onDone(false));
      close = () => w.close(5_000);
    } else {
      const w = await startNaiveWorker({ redisUrl: opts.redisUrl, prefix: env.prefix, baseUrl: sim.url, concurrency: opts.concurrency, keyId: 'central-1', model: s.models[0] ?? '' });
      w.worker.on('completed', () => onDone(true));
      w.worker.on('failed', (job) => job && job.finishedOn !== undefined && onDone(false));
      close = w.close;
    }

    const before = await commandStats(redis);
    counter.reset();
    const t0 = performance.now();
    await queue.resume();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${opts.variant}: only ${done}/${opts.messages} finished in 180 s`)), 180_000)));
    await Promise.race([allDone, timeout]).finally(() => clearTimeout(timer));
    const elapsedMs = performance.now() - t0;
    await close();
    const pg = counter.counts().total;
    const diff = diffCounts(before, await commandStats(redis));
    return {
      variant: opts.variant,
      round: opts.round,
      messages: opts.messages,
      concurrency: opts.concurrency,
      elapsedMs,
      perSecond: (opts.messages * 1000) / elapsedMs,
      failed,
      redis: summarise(diff, opts.messages),
      pgStatements: pg,
      pgPerMessage: pg / opts.messages,
    };
  } finally {
    await client.close();
    await queue.close();
    redis.disconnect();
    if (sys) await sys.close();
    await sim.close();
    await counter.close();
    await env.cleanup();
  }
}

/** The naive worker: every job on one fixed key and model, no lease, no ledger, no usage rows. */
export async function startNaiveWorker(opts: { redisUrl: string; prefix: string; baseUrl: string; concurrency: number; keyId: string; model: string }): Promise<{ worker: Worker<GenerationJobData, GenerationResult>; close(): Promise<void> }> {
  const gemini = createGeminiPool({ baseUrl: opts.baseUrl, timeoutMs: 60_000, secretOf });
  const processor = async (job: Job<GenerationJobData, GenerationResult>): Promise<GenerationResult> => {
    const { request } = parseJobData(job.data);
    const { outcome } = await gemini.generate({ keyId: opts.keyId, model: opts.model, request });
    if (outcome.kind !== 'success') throw new Error(`${outcome.failure}: ${outcome.message}`);
    return { jobId: job.id ?? '', text: outcome.text, parts: outcome.parts, model: opts.model, keyId: opts.keyId, project: '', central: true, usage: outcome.usage, finishReason: outcome.finishReason, safetyRatings: outcome.safetyRatings, modelVersion: outcome.modelVersion, responseId: outcome.responseId, attempts: [] };
  };
  const connection = connectRedis(opts.redisUrl);
  const worker = new Worker<GenerationJobData, GenerationResult>(GENERATION_QUEUE, processor, { connection, prefix: opts.prefix, concurrency: opts.concurrency });
  worker.on('error', () => undefined);
  await worker.waitUntilReady();
  return {
    worker,
    async close() {
      await worker.close();
      await connection.quit().catch(() => connection.disconnect());
    },
  };
}
