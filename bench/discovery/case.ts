/**
 * One discovery case, in process: a model no catalog layer knows, a stand-in
 * that enforces a limit quotaflow is not told, steady demand, time
 * compressed (a short window on both sides). Records what the stand-in
 * admitted per second, the 429s it answered, and the limit quotaflow held.
 */
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { GENERATION_QUEUE } from '../../src/adapters/queue/job-contract.js';
import { startGenerationWorker } from '../../workers/generation.js';
import { createClient } from '../../src/adapters/queue/client.js';
import { parseConfig } from '../../src/config.js';
import { parseFleet } from '../../src/core/fleet-file.js';
import { createLogger } from '../../src/logger.js';
import { parseSimulatorConfig, startSimulator } from '../../src/simulator/index.js';
import { openSystem, type System } from '../../src/system.js';
import { createTestDatabase } from '../../test/helpers/postgres.js';
import { dropPrefix } from '../../test/helpers/redis.js';

export const MODEL = 'gemini-x-experimental';

export interface DiscoveryCase {
  name: string;
  windowMs: number;
  /** the real limit per window, and when (ms from the start) it changes */
  limit: number;
  raise?: { atMs: number; to: number };
  quotaValueInErrors: boolean;
  quietMs: number;
  workers: number;
  concurrency: number;
  durationMs: number;
}

export interface DiscoveryRun {
  case: DiscoveryCase;
  /** successful upstream calls in each second since the start */
  okPerSecond: number[];
  /** 429s in each second */
  refusedPerSecond: number[];
  refused: number;
  /** the start times (ms from the start) of the 429s */
  refusedAt: number[];
  /** upstream call times (ms from the start) of successes */
  okAt: number[];
  /** the rpm limit quotaflow reported at the end, and its source */
  heldLimit: { limit: number; source: string } | undefined;
  /** the rpm limit quotaflow held, sampled about once a second (ms from the start) */
  heldAt: Array<{ atMs: number; limit: number; source: string }>;
}

/** The stand-in's real limit `atMs` after the start. */
export function trueLimitAt(c: DiscoveryCase, atMs: number): number {
  return c.raise && atMs >= c.raise.atMs ? c.raise.to : c.limit;
}

export async function runDiscoveryCase(c: DiscoveryCase, redisUrl: string, log: (line: string) => void = () => undefined): Promise<DiscoveryRun> {
  const db = await createTestDatabase({ max: 8 });
  const prefix = `qfd-${c.name}-${randomBytes(3).toString('hex')}`;
  const sim = await startSimulator(
    parseSimulatorConfig({
      windowMs: c.windowMs,
      latencyMs: { min: 5, max: 15 },
      quotaValueInErrors: c.quotaValueInErrors,
      models: { [MODEL]: { rpm: c.limit, tpm: 100_000_000, rpd: 100_000_000 } },
      projects: [{ id: 'p1', tier: 'tier1', keys: [{ secret: 'sk-discovery-bench-0001', label: 'k1' }] }],
    }),
    { port: 0 },
  );
  const config = parseConfig({
    REDIS_URL: redisUrl,
    DATABASE_URL: db.url,
    GEMINI_BASE_URL: sim.url,
    QUOTAFLOW_SECRET: randomBytes(32).toString('hex'),
    QUOTAFLOW_PREFIX: prefix,
    QUOTAFLOW_WINDOW_MS: String(c.windowMs),
    QUOTAFLOW_DISCOVERY_QUIET_MS: String(c.quietMs),
    LOG_LEVEL: 'silent',
  });
  const logger = createLogger({ level: 'silent' });
  const systems: System[] = [];
  const workers: Array<{ close(grace?: number): Promise<void> }> = [];
  const client = createClient({ redisUrl, prefix });
  const start = Date.now();
  let stop = false;
  let raise: NodeJS.Timeout | undefined;
  try {
    for (let i = 0; i < c.workers; i++) systems.push(await openSystem(config, logger, { migrate: i === 0 }));
    await systems[0]?.admin.applyFleet(parseFleet({ models: [MODEL], projects: [{ id: 'p1', tier: 'tier1' }], tenants: [{ id: 'acme' }], keys: [{ id: 'k1', tenant: null, project: 'p1', secret: 'sk-discovery-bench-0001' }] }), { prune: false });
    for (const sys of systems) workers.push(await startGenerationWorker(sys, { concurrency: c.concurrency }));
    // demand always above what quotaflow admits (1.5 × the held limit, plus every worker slot), so each window is
    // used up and discovery has evidence to grow on; a larger backlog would only bounce through the delayed set
    const queue = new Queue(GENERATION_QUEUE, { connection: new Redis(redisUrl), prefix });
    const heldAt: DiscoveryRun['heldAt'] = [];
    const feeder = (async () => {
      let n = 0;
      while (!stop) {
        const q = await queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active');
        const target = Math.ceil(1.5 * (heldAt[heldAt.length - 1]?.limit ?? 5)) + c.workers * c.concurrency;
        const missing = target - Object.values(q).reduce((a, b) => a + b, 0);
        if (missing > 0) await Promise.all(Array.from({ length: missing }, () => client.enqueue({ tenantId: 'acme', contents: `discover ${n++}`, deadlineMs: 3_600_000 })));
        await new Promise((r) => setTimeout(r, 200));
      }
      await queue.close();
      await queue.disconnect();
    })();
    if (c.raise) {
      const { atMs, to } = c.raise;
      raise = setTimeout(() => sim.setLimits('p1', MODEL, { rpm: to }), atMs);
    }
    const sample = async (): Promise<{ limit: number; source: string } | undefined> => {
      const rpm = (await systems[0]?.snapshot())?.scopes.find((s) => s.model === MODEL)?.rpm;
      if (rpm) heldAt.push({ atMs: Date.now() - start, limit: rpm.limit, source: rpm.source });
      return rpm;
    };
    let logged = start;
    while (Date.now() - start < c.durationMs) {
      await new Promise((r) => setTimeout(r, 1_000));
      await sample();
      if (Date.now() - logged < 5_000) continue;
      logged = Date.now();
      const calls = sim.stats().calls.filter((x) => x.method === 'generateContent');
      log(`  ${c.name}: ${Math.round((Date.now() - start) / 1000)} s, ${calls.filter((x) => x.status === 200).length} ok, ${calls.filter((x) => x.status === 429).length} × 429, held ${heldAt[heldAt.length - 1]?.limit ?? '?'} (true ${trueLimitAt(c, Date.now() - start)})`);
    }
    stop = true;
    await feeder;
    const held = await sample();
    const calls = sim.stats().calls.filter((x) => x.method === 'generateContent');
    const seconds = Math.ceil(c.durationMs / 1000);
    const per = (status: number): number[] => {
      const out = Array.from({ length: seconds }, () => 0);
      for (const x of calls) if (x.status === status) out[Math.min(seconds - 1, Math.floor((x.at - start) / 1000))] = (out[Math.min(seconds - 1, Math.floor((x.at - start) / 1000))] ?? 0) + 1;
      return out;
    };
    return {
      case: c,
      okPerSecond: per(200),
      refusedPerSecond: per(429),
      refused: calls.filter((x) => x.status === 429).length,
      refusedAt: calls.filter((x) => x.status === 429).map((x) => x.at - start),
      okAt: calls.filter((x) => x.status === 200).map((x) => x.at - start),
      heldLimit: held ? { limit: held.limit, source: held.source } : undefined,
      heldAt,
    };
  } finally {
    stop = true;
    clearTimeout(raise);
    for (const w of workers) await w.close(500).catch(() => undefined);
    await client.close();
    for (const s of systems) await s.close().catch(() => undefined);
    await sim.close();
    await dropPrefix(prefix, redisUrl).catch(() => undefined);
    await db.drop().catch(() => undefined);
  }
}

/** The most successes in any window of the run after `fromMs` (sliding over the success times). */
export function maxInWindow(run: DiscoveryRun, fromMs: number): number {
  const ok = run.okAt.filter((t) => t >= fromMs).sort((a, b) => a - b);
  let best = 0;
  let j = 0;
  for (let i = 0; i < ok.length; i++) {
    while ((ok[i] ?? 0) - (ok[j] ?? 0) >= run.case.windowMs) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}
