/**
 * One scenario under one policy: fresh database, prefix and stand-in; the
 * scenario's workers (quotaflow's real worker, or the baseline worker);
 * the workload; then every job's final state and the stand-in's call log.
 */
import { Redis } from 'ioredis';
import { startGenerationWorker } from '../../workers/generation.js';
import { createClient } from '../../src/adapters/queue/client.js';
import { createLogger } from '../../src/logger.js';
import { startSimulator, type SimCall } from '../../src/simulator/index.js';
import { openSystem, type System } from '../../src/system.js';
import { startBaselineWorker } from '../baseline/worker.js';
import { fleetSpec, standInConfig } from '../harness/configs.js';
import { openRunEnv } from '../harness/env.js';
import { collectJobs, enqueueWorkload, jobCounts, type JobRecord } from '../harness/workload.js';
import type { Scenario } from '../scenario.js';

export type Policy = 'quotaflow' | 'baseline';

export interface PolicyRun {
  policy: Policy;
  startedAt: number;
  endedAt: number;
  timedOut: boolean;
  jobs: JobRecord[];
  calls: SimCall[];
  droppedCalls: number;
  byStatus: Record<string, number>;
}

export async function runPolicy(s: Scenario, policy: Policy, redisUrl: string): Promise<PolicyRun> {
  const env = await openRunEnv(`${s.name.slice(0, 24)}-${policy === 'quotaflow' ? 'qf' : 'bl'}`, redisUrl);
  const sim = await startSimulator(standInConfig(s), { port: 0 });
  const config = env.config({ geminiBaseUrl: sim.url, dayLengthMs: s.dayLengthMs, breakerOpenMs: s.breakerOpenMs });
  const logger = createLogger({ level: config.logLevel, name: 'bench', destination: process.stderr });
  const systems: System[] = [];
  const closers: Array<() => Promise<void>> = [];
  const redis = new Redis(redisUrl);
  const client = createClient({ redisUrl, prefix: env.prefix });
  try {
    if (policy === 'quotaflow') {
      for (let i = 0; i < s.workers.count; i++) systems.push(await openSystem(config, logger, { migrate: false }));
      const first = systems[0];
      if (!first) throw new Error('no workers configured');
      await first.admin.applyFleet(fleetSpec(s), { prune: true });
      for (const sys of systems) {
        const w = await startGenerationWorker(sys, { concurrency: s.workers.concurrency });
        closers.push(() => w.close(1_000));
      }
    } else {
      for (let i = 0; i < s.workers.count; i++) {
        const w = await startBaselineWorker({ scenario: s, redisUrl, prefix: env.prefix, geminiBaseUrl: sim.url, concurrency: s.workers.concurrency });
        closers.push(() => w.close());
      }
    }

    const startedAt = Date.now();
    let enqueued = 0;
    let counts = { completed: 0, failed: 0 };
    const tag = `[${s.name} / ${policy}]`;
    const progress = setInterval(() => {
      const st = sim.stats();
      const secs = ((Date.now() - startedAt) / 1000).toFixed(0).padStart(3);
      console.log(`  ${tag} ${secs}s enqueued ${enqueued}/${s.workload.messages} completed ${counts.completed} failed ${counts.failed} | upstream ${st.totalCalls} calls, ${st.byStatus['429'] ?? 0} x 429`);
    }, 3_000);
    const ids = enqueueWorkload(client, s, `${s.name}`, () => void enqueued++);
    let timedOut = false;
    try {
      for (;;) {
        await new Promise((r) => setTimeout(r, 250));
        counts = await jobCounts(redis, env.prefix);
        if (enqueued === s.workload.messages && counts.completed + counts.failed >= enqueued) break;
        if (Date.now() - startedAt > s.maxRunMs) {
          timedOut = true;
          break;
        }
      }
    } finally {
      clearInterval(progress);
    }
    const endedAt = Date.now();
    const jobs = await collectJobs(redis, env.prefix, await ids);
    const st = sim.stats();
    return { policy, startedAt, endedAt, timedOut, jobs, calls: st.calls, droppedCalls: st.droppedCalls, byStatus: st.byStatus };
  } finally {
    for (const c of closers) await c().catch((err: unknown) => console.warn(`worker close failed: ${String(err)}`));
    await client.close();
    for (const sys of systems) await sys.close();
    redis.disconnect();
    await sim.close();
    await env.cleanup();
  }
}
