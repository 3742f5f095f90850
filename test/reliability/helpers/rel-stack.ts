import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import postgres from 'postgres';
import { createClient, type QuotaflowClient } from '../../../src/adapters/queue/client.js';
import { GENERATION_QUEUE, decodeFailure, type AttemptRecord, type GenerationJobData, type GenerationResult } from '../../../src/adapters/queue/job-contract.js';
import { connectRedis } from '../../../src/adapters/redis/connection.js';
import { migrateDatabase, openDatabase } from '../../../src/adapters/postgres/db.js';
import type { GenerationRequestInput } from '../../../src/core/request.js';
import type { FailureReason } from '../../../src/core/types.js';
import { startSimulator, type SimulatorConfig, type SimulatorHandle } from '../../../src/simulator/index.js';
import { createTestDatabase } from '../../helpers/postgres.js';
import { rpdCounts } from '../../helpers/rpd-spent.js';
import { ROOT, applyFleetFile, runCli, startWorkerProcess, type WorkerProcess } from '../../helpers/cli-process.js';

export type RelWorker = WorkerProcess;

export interface FailedJob {
  jobId: string;
  reason: FailureReason;
  message: string;
  attempts: AttemptRecord[];
}

export interface Outcomes {
  completed: GenerationResult[];
  failed: FailedJob[];
}

export type ScopeCounts = Record<string, number>;

/**
 * A stack for reliability tests: the stand-in, a Redis and a Postgres chosen
 * by the test (private ones it can restart), real worker processes, and
 * readers for the three records that must agree (jobs, ledger, stand-in).
 */
export interface RelStack {
  sim: SimulatorHandle;
  client: QuotaflowClient;
  queue: Queue<GenerationJobData, GenerationResult>;
  redis: Redis;
  prefix: string;
  env: Record<string, string>;
  workers: RelWorker[];
  cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }>;
  startWorker(args?: string[]): Promise<RelWorker>;
  applyFleet(fleet: unknown): Promise<void>;
  /** enqueues through the client, `parallel` at a time; returns job ids */
  enqueueAll(requests: GenerationRequestInput[], parallel?: number): Promise<string[]>;
  /** polls until `n` jobs are completed or failed (tolerates Redis being down meanwhile) */
  waitSettled(n: number, ceilingMs: number): Promise<{ completed: number; failed: number; ms: number }>;
  counts(): Promise<Record<string, number>>;
  outcomes(): Promise<Outcomes>;
  /** RPD spent per `project|model`: what rpd_ledger reserved minus what the pools in Redis still hold */
  ledger(): Promise<ScopeCounts>;
  /** sum(rpd_ledger.used) per `project|model`: reserved in blocks, spent or not */
  reserved(): Promise<ScopeCounts>;
  /** usage_events rows per `project|model` */
  usageEvents(): Promise<ScopeCounts>;
  /** requests the stand-in counted per `project|model` */
  upstream(): ScopeCounts;
  logs(): string;
  stop(): Promise<void>;
}

export async function startRelStack(opts: { name: string; sim: SimulatorConfig; redisUrl: string; databaseUrl?: string; env?: Record<string, string> }): Promise<RelStack> {
  const own = opts.databaseUrl ? undefined : await createTestDatabase();
  const databaseUrl = opts.databaseUrl ?? own?.url ?? '';
  if (opts.databaseUrl) {
    const h = await openDatabase({ databaseUrl, dataDir: '.' });
    await migrateDatabase(h);
    await h.close();
  }
  const prefix = `qfr-${opts.name}-${randomBytes(3).toString('hex')}`;
  const sim = await startSimulator(opts.sim, { port: 0 });
  const dir = await mkdtemp(join(tmpdir(), 'qf-rel-'));
  const env: Record<string, string> = {
    REDIS_URL: opts.redisUrl,
    DATABASE_URL: databaseUrl,
    GEMINI_BASE_URL: sim.url,
    QUOTAFLOW_SECRET: randomBytes(32).toString('hex'),
    QUOTAFLOW_PREFIX: prefix,
    QUOTAFLOW_DATA_DIR: dir,
    LOG_LEVEL: 'info',
    ...opts.env,
  };
  const sql = postgres(databaseUrl, { max: 2, onnotice: () => undefined });
  const redis = connectRedis(opts.redisUrl);
  redis.on('error', () => undefined);
  const queue = new Queue<GenerationJobData, GenerationResult>(GENERATION_QUEUE, { connection: connectRedis(opts.redisUrl), prefix });
  queue.on('error', () => undefined);
  const workers: RelWorker[] = [];
  const outputs: Array<() => string> = [];

  const collect = (output: () => string): void => void outputs.push(output);

  const perScope = (rows: Array<{ k: string; n: number }>): ScopeCounts => Object.fromEntries(rows.filter((r) => r.n > 0).map((r) => [r.k, r.n]));

  const stack: RelStack = {
    sim,
    client: createClient({ redisUrl: opts.redisUrl, prefix }),
    queue,
    redis,
    prefix,
    env,
    workers,
    cli: (args) => runCli(args, env, collect),
    async startWorker(args = []) {
      const w = await startWorkerProcess(args, env, { onOutput: collect, readyTimeoutMs: 30_000 });
      workers.push(w);
      return w;
    },
    applyFleet: (fleet) => applyFleetFile(dir, fleet, [], (a) => stack.cli(a)),
    async enqueueAll(requests, parallel = 100) {
      const ids: string[] = [];
      for (let i = 0; i < requests.length; i += parallel) {
        const batch = await Promise.all(requests.slice(i, i + parallel).map((r) => stack.client.enqueue(r)));
        ids.push(...batch.map((b) => b.jobId));
      }
      return ids;
    },
    async counts() {
      return queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed', 'waiting-children');
    },
    async waitSettled(n, ceilingMs) {
      const t0 = Date.now();
      let last = { completed: 0, failed: 0 };
      while (Date.now() - t0 < ceilingMs) {
        try {
          const c = await withTimeout(stack.counts(), 5_000);
          last = { completed: c.completed ?? 0, failed: c.failed ?? 0 };
          if (last.completed + last.failed >= n) break;
        } catch {
          // Redis restarting: ask again
        }
        await sleep(250);
      }
      return { ...last, ms: Date.now() - t0 };
    },
    async outcomes() {
      const completed: GenerationResult[] = [];
      const failed: FailedJob[] = [];
      const page = 1_000;
      for (let s = 0; ; s += page) {
        const jobs: Array<Job<GenerationJobData, GenerationResult>> = await queue.getJobs(['completed'], s, s + page - 1, true);
        for (const j of jobs) if (j) completed.push(j.returnvalue);
        if (jobs.length < page) break;
      }
      for (let s = 0; ; s += page) {
        const jobs: Array<Job<GenerationJobData, GenerationResult>> = await queue.getJobs(['failed'], s, s + page - 1, true);
        for (const j of jobs) {
          if (!j) continue;
          const f = decodeFailure(j.failedReason);
          const state = (j.data as Partial<GenerationJobData> | undefined)?.state;
          failed.push({ jobId: j.id ?? '', ...f, attempts: state?.attempts ?? [] });
        }
        if (jobs.length < page) break;
      }
      return { completed, failed };
    },
    ledger: async () => (await rpdCounts(sql, redis, prefix)).spent,
    reserved: async () => (await rpdCounts(sql, redis, prefix)).reserved,
    async usageEvents() {
      const rows = await sql<Array<{ k: string; n: number }>>`select project_id || '|' || model as k, count(*)::int as n from usage_events group by 1`;
      return perScope(rows);
    },
    upstream() {
      return Object.fromEntries(sim.stats().totals.filter((t) => t.requests > 0).map((t) => [`${t.project}|${t.model}`, t.requests]));
    },
    logs: () => outputs.map((o) => o()).join('\n'),
    async stop() {
      await mkdir(join(ROOT, 'test-artifacts'), { recursive: true });
      await writeFile(join(ROOT, 'test-artifacts', `reliability-${opts.name}.log`), stack.logs());
      for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGTERM');
      await Promise.all(workers.map((w) => w.exited));
      await stack.client.close().catch(() => undefined);
      await queue.close().catch(() => undefined);
      await sim.close();
      await sql.end({ timeout: 5 });
      redis.disconnect();
      await own?.drop();
    },
  };
  return stack;
}

/** Adds up attempts of every job (completed and failed) per `project|model`. */
export function attemptsByScope(o: Outcomes): ScopeCounts {
  const out: ScopeCounts = {};
  for (const a of [...o.completed.flatMap((r) => r.attempts), ...o.failed.flatMap((f) => f.attempts)]) {
    const k = `${a.projectId}|${a.model}`;
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

export function total(c: ScopeCounts): number {
  return Object.values(c).reduce((a, b) => a + b, 0);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function until(check: () => boolean | Promise<boolean>, ceilingMs: number, stepMs = 50): Promise<boolean> {
  const t0 = Date.now();
  while (Date.now() - t0 < ceilingMs) {
    if (await check()) return true;
    await sleep(stepMs);
  }
  return false;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error('timeout')), ms).unref())]);
}
