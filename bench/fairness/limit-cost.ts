/**
 * What a tenant's own limits add to each message: the same run as the
 * overhead throughput (zero-latency stand-in, ample quotas, one worker,
 * private redis-server), once for a tenant without limits and once for a
 * tenant with every limit and a budget set (all far from binding), counting
 * Redis commands (INFO commandstats, commands inside scripts included).
 */
import { performance } from 'node:perf_hooks';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { startGenerationWorker } from '../../workers/generation.js';
import { createClient } from '../../src/adapters/queue/client.js';
import { GENERATION_QUEUE } from '../../src/adapters/queue/job-contract.js';
import { parseFleet } from '../../src/core/fleet-file.js';
import { createLogger } from '../../src/logger.js';
import { startSimulator } from '../../src/simulator/index.js';
import { openSystem } from '../../src/system.js';
import { fleetDocument, standInConfig } from '../harness/configs.js';
import { openRunEnv } from '../harness/env.js';
import { promptFor } from '../harness/workload.js';
import { commandStats, diffCounts, summarise } from '../overhead/redis-stats.js';
import { OVERHEAD_SCENARIO } from '../overhead/throughput.js';

export type LimitVariant = 'no limits' | 'limits';

export interface LimitCostRun {
  variant: LimitVariant;
  round: number;
  messages: number;
  elapsedMs: number;
  perSecond: number;
  redis: ReturnType<typeof summarise>;
}

/** Every tenant limit and a budget, none of them reached by the run. */
const FAR_LIMITS = { rpm: 10_000_000, tpm: 1_000_000_000_000, rpd: 100_000_000, tokensPerDay: 1_000_000_000_000, centralRpd: 100_000_000, centralTokensPerDay: 1_000_000_000_000 };

function fleetWithTenants(): unknown {
  const doc = fleetDocument(OVERHEAD_SCENARIO) as Record<string, unknown>;
  return {
    ...doc,
    tenants: [
      { id: 'plain', keyMode: 'central-only' },
      { id: 'limited', keyMode: 'central-only', limits: FAR_LIMITS, budget: { monthly: 1_000_000 } },
    ],
  };
}

export async function runLimitCost(opts: { variant: LimitVariant; round: number; messages: number; concurrency: number; redisUrl: string }): Promise<LimitCostRun> {
  const tenantId = opts.variant === 'limits' ? 'limited' : 'plain';
  const env = await openRunEnv(`lim-${tenantId}`, opts.redisUrl);
  const sim = await startSimulator(standInConfig(OVERHEAD_SCENARIO, { latencyMs: { min: 0, max: 0 }, faults: false }), { port: 0 });
  const config = env.config({ geminiBaseUrl: sim.url });
  const sys = await openSystem(config, createLogger({ level: config.logLevel, name: 'bench', destination: process.stderr }), { migrate: false });
  const redis = new Redis(opts.redisUrl);
  const queue = new Queue(GENERATION_QUEUE, { connection: redis, prefix: env.prefix });
  const client = createClient({ redisUrl: opts.redisUrl, prefix: env.prefix });
  try {
    await sys.admin.applyFleet(parseFleet(fleetWithTenants()), { prune: true });
    await queue.pause();
    for (let i = 0; i < opts.messages; i += 100) {
      await Promise.all(Array.from({ length: Math.min(100, opts.messages - i) }, (_, j) => client.enqueue({ tenantId, contents: promptFor(i + j, tenantId, 400) })));
    }
    let done = 0;
    let finish: () => void = () => undefined;
    const allDone = new Promise<void>((r) => (finish = r));
    const w = await startGenerationWorker(sys, { concurrency: opts.concurrency });
    const onDone = (): void => {
      if (++done === opts.messages) finish();
    };
    w.worker.on('completed', onDone);
    w.worker.on('failed', (job) => job?.finishedOn !== undefined && onDone());
    const before = await commandStats(redis);
    const t0 = performance.now();
    await queue.resume();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${opts.variant}: only ${done}/${opts.messages} finished in 180 s`)), 180_000)));
    await Promise.race([allDone, timeout]).finally(() => clearTimeout(timer));
    const elapsedMs = performance.now() - t0;
    await w.close(5_000);
    const diff = diffCounts(before, await commandStats(redis));
    return { variant: opts.variant, round: opts.round, messages: opts.messages, elapsedMs, perSecond: (opts.messages * 1000) / elapsedMs, redis: summarise(diff, opts.messages) };
  } finally {
    await client.close();
    await queue.close();
    redis.disconnect();
    await sys.close();
    await sim.close();
    await env.cleanup();
  }
}
