/**
 * One load run with worker PROCESSES: `quotaflow worker` (the real CLI,
 * exactly what an operator runs) or the naive worker
 * (bench/harness/naive-process.ts), N of them at a given concurrency,
 * against the stand-in at a given upstream latency, on a private Redis.
 *
 * Two arrivals:
 * - burst: the queue is paused, every message enqueued, the workers started,
 *   then the clock runs from resume to the last completion (throughput);
 * - paced: the workers are started first, messages arrive at a fixed rate,
 *   and the clock runs from the first enqueue to the last completion (queue
 *   wait under a load the workers can carry).
 *
 * Measured over the timed window: INFO commandstats (commands, those run
 * inside scripts included), INFO cpu (Redis's own CPU seconds), INFO stats
 * total_net_input_bytes / total_net_output_bytes, Postgres statements (wire
 * counter), each worker's RSS (sampled, and the kernel's high-water mark).
 * The enqueue side (client.enqueue) is measured separately in burst runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createClient } from '../../src/adapters/queue/client.js';
import { GENERATION_QUEUE } from '../../src/adapters/queue/job-contract.js';
import { createLogger } from '../../src/logger.js';
import { startSimulator } from '../../src/simulator/index.js';
import { openSystem } from '../../src/system.js';
import { startStatementCounter, viaCounter } from '../overhead/pg-counter.js';
import { commandStats, diffCounts, summarise, type CommandCounts } from '../overhead/redis-stats.js';
import { parseScenario, type Scenario } from '../scenario.js';
import { fleetSpec, standInConfig } from './configs.js';
import { openRunEnv } from './env.js';
import { promptFor } from './workload.js';

export type LoadVariant = 'quotaflow' | 'naive';

export interface LoadOptions {
  variant: LoadVariant;
  workers: number;
  /** per worker process */
  concurrency: number;
  messages: number;
  tenants: number;
  latencyMs: { min: number; max: number };
  /** burst, or messages per second */
  arrival: 'burst' | { rate: number };
  redisUrl: string;
  pgPort: number;
  /** the run fails past this (a stuck run must not hang the bench) */
  maxRunMs?: number;
}

export interface RedisWork {
  commands: number;
  commandsPerMessage: number;
  scriptsPerMessage: number;
  top: Array<[string, number]>;
  cpuSeconds: number;
  /** Redis CPU milliseconds per message */
  cpuMsPerMessage: number;
  /** share of one core Redis used over the window */
  cpuShare: number;
  inBytes: number;
  outBytes: number;
  inBytesPerMessage: number;
  outBytesPerMessage: number;
}

export interface LoadRun {
  variant: LoadVariant;
  arrival: 'burst' | { rate: number };
  workers: number;
  concurrency: number;
  messages: number;
  tenants: number;
  latencyMs: { min: number; max: number };
  elapsedMs: number;
  perSecond: number;
  completed: number;
  failed: number;
  /** enqueue to the start of processing (burst: from resume) */
  queueWaitMs: { p50: number; p99: number; max: number };
  /** from the last upstream answer (attempt start + its latency) to the job's end: what the worker does after the call */
  afterCallMs: { p50: number; p99: number; max: number };
  /** per worker process, MB */
  rssMb: Array<{ peak: number; end: number }>;
  /** the worker processes' CPU (user + system) over the window, ms per message, all processes together */
  workerCpuMsPerMessage: number;
  /** the timed window: what the workers (and the pacer's enqueues, when paced) cost */
  redis: RedisWork;
  /** burst runs: what enqueueing the messages cost (the client's side) */
  enqueue: RedisWork | null;
  pgStatements: number;
  pgPerMessage: number;
  loadAverage: [number, number, number];
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MODELS = ['gemini-2.5-pro', 'gemini-2.5-flash'];

/** N tenants, each with one own key in its own project (own-then-central), and 4 central keys; ample quotas everywhere. */
export function loadScenario(tenants: number): Scenario {
  const ids = Array.from({ length: tenants }, (_, i) => `t${String(i + 1).padStart(3, '0')}`);
  return parseScenario({
    name: `load-${tenants}`,
    models: MODELS,
    defaultLimits: Object.fromEntries(MODELS.map((m) => [m, { rpm: 10_000_000, tpm: 1_000_000_000, rpd: 100_000_000 }])),
    projects: Object.fromEntries([...ids.map((t) => `p-${t}`), 'pc-1', 'pc-2', 'pc-3', 'pc-4'].map((p) => [p, {}])),
    tenants: ids.map((id) => ({ id, keyMode: 'own-then-central' })),
    keys: [...ids.map((t) => ({ id: `k-${t}`, tenant: t, project: `p-${t}` })), ...[1, 2, 3, 4].map((i) => ({ id: `central-${i}`, tenant: null, project: `pc-${i}` }))],
    workload: { messages: 1, arrival: { kind: 'burst' } },
  });
}

interface RedisCounters {
  commands: CommandCounts;
  cpu: number;
  inBytes: number;
  outBytes: number;
}

async function redisCounters(redis: Redis): Promise<RedisCounters> {
  const [commands, cpu, stats] = [await commandStats(redis), await redis.info('cpu'), await redis.info('stats')];
  const num = (text: string, field: string): number => Number(new RegExp(`^${field}:([\\d.]+)`, 'm').exec(text)?.[1] ?? 0);
  return { commands, cpu: num(cpu, 'used_cpu_sys') + num(cpu, 'used_cpu_user'), inBytes: num(stats, 'total_net_input_bytes'), outBytes: num(stats, 'total_net_output_bytes') };
}

function redisWork(before: RedisCounters, after: RedisCounters, messages: number, elapsedMs: number): RedisWork {
  // the three INFO calls of the second reading
  const diff = diffCounts(before.commands, after.commands);
  if (diff.info !== undefined) diff.info = Math.max(0, diff.info - 2);
  const s = summarise(diff, messages);
  const cpuSeconds = after.cpu - before.cpu;
  const inBytes = after.inBytes - before.inBytes;
  const outBytes = after.outBytes - before.outBytes;
  return {
    commands: s.total,
    commandsPerMessage: s.perMessage,
    scriptsPerMessage: s.scriptsPerMessage,
    top: s.top,
    cpuSeconds,
    cpuMsPerMessage: (cpuSeconds * 1000) / messages,
    cpuShare: cpuSeconds / (elapsedMs / 1000),
    inBytes,
    outBytes,
    inBytesPerMessage: inBytes / messages,
    outBytesPerMessage: outBytes / messages,
  };
}

/** user + system CPU milliseconds a process has used (0 when it is gone) */
function cpuMsOf(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    // fields after the command name (which may hold spaces): state is the 3rd field, utime the 14th, stime the 15th
    const rest = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').pop()?.split(' ') ?? [];
    return ((Number(rest[11] ?? 0) + Number(rest[12] ?? 0)) * 1000) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}
/** USER_HZ: 100 on Linux */
const CLOCK_TICKS = 100;

/** VmRSS and VmHWM of a process, in MB (0 when it is gone). */
function memoryOf(pid: number | undefined): { rss: number; hwm: number } {
  if (pid === undefined) return { rss: 0, hwm: 0 };
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
    return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
  } catch {
    return { rss: 0, hwm: 0 };
  }
}

interface Proc {
  child: ChildProcess;
  output(): string;
  exited: Promise<void>;
}

async function startProcess(args: string[], env: Record<string, string>, ready: string): Promise<Proc> {
  // BENCH_CPU_PROF=DIR: each worker process writes a V8 CPU profile there when it exits
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const child = spawn(process.execPath, [...prof, '--import', 'tsx', ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer): void => {
    out += d.toString();
    // only the tail matters for diagnosis
    if (out.length > 64_000) out = out.slice(-32_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const deadline = Date.now() + 60_000;
  while (!out.includes(ready)) {
    if (child.exitCode !== null) throw new Error(`worker process exited early:\n${out.slice(-4000)}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`worker process did not start within 60 s:\n${out.slice(-4000)}`);
    }
    await sleep(50);
  }
  return { child, output: () => out, exited };
}

async function stopProcess(p: Proc): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 15_000);
  await p.exited;
  clearTimeout(timer);
}

export async function runLoad(o: LoadOptions): Promise<LoadRun> {
  const s = loadScenario(o.tenants);
  const tenantIds = s.tenants.map((t) => t.id);
  const env = await openRunEnv(`load-${o.variant}`, o.redisUrl);
  const counter = await startStatementCounter({ host: '127.0.0.1', port: o.pgPort });
  const sim = await startSimulator({ ...standInConfig(s, { latencyMs: o.latencyMs, faults: false }), maxCallLog: 1_000 }, { port: 0 });
  const config = env.config({ geminiBaseUrl: sim.url, databaseUrl: viaCounter(env.db.url, counter.port) });
  const redis = new Redis(o.redisUrl);
  const queue = new Queue(GENERATION_QUEUE, { connection: redis, prefix: env.prefix });
  const client = createClient({ redisUrl: o.redisUrl, prefix: env.prefix });
  const procs: Proc[] = [];
  const rssPeak: number[] = [];
  let sampler: NodeJS.Timeout | undefined;
  try {
    if (o.variant === 'quotaflow') {
      const sys = await openSystem(config, createLogger({ level: 'silent', name: 'bench' }), { migrate: false });
      try {
        await sys.admin.applyFleet(fleetSpec(s), { prune: true });
      } finally {
        await sys.close();
      }
    }
    const enqueueAll = async (from: number, n: number): Promise<void> => {
      // batch work with an hour to finish: a backlog drained at the workers' pace must not fail on the default deadline (the naive worker has none)
      await Promise.all(Array.from({ length: n }, (_, j) => client.enqueue({ tenantId: tenantIds[(from + j) % tenantIds.length] ?? '', contents: promptFor(from + j, 'load', 400), deadlineMs: 3_600_000 })));
    };

    let enqueue: RedisWork | null = null;
    if (o.arrival === 'burst') {
      await queue.pause();
      const e0 = await redisCounters(redis);
      const te = performance.now();
      for (let i = 0; i < o.messages; i += 200) await enqueueAll(i, Math.min(200, o.messages - i));
      enqueue = redisWork(e0, await redisCounters(redis), o.messages, performance.now() - te);
    }

    const workerEnv: Record<string, string> = {
      REDIS_URL: o.redisUrl,
      DATABASE_URL: viaCounter(env.db.url, counter.port),
      GEMINI_BASE_URL: sim.url,
      QUOTAFLOW_SECRET: config.secretKey?.toString('hex') ?? '',
      QUOTAFLOW_PREFIX: env.prefix,
      QUOTAFLOW_DATA_DIR: '.quotaflow/bench',
      // info: the level operators run at (nothing per successful job); the start line is at info
      LOG_LEVEL: 'info',
      NAIVE_CONCURRENCY: String(o.concurrency),
      NAIVE_KEY: 'central-1',
      NAIVE_MODEL: MODELS[0] ?? '',
    };
    const args =
      o.variant === 'quotaflow'
        ? [join(ROOT, 'src/cli/main.ts'), 'worker', '--concurrency', String(o.concurrency), '--no-maintenance']
        : [join(ROOT, 'bench/harness/naive-process.ts')];
    const ready = o.variant === 'quotaflow' ? 'generation worker started' : 'naive worker started';
    for (let i = 0; i < o.workers; i++) procs.push(await startProcess(args, workerEnv, ready));
    procs.forEach((_, i) => (rssPeak[i] = 0));
    sampler = setInterval(() => procs.forEach((p, i) => (rssPeak[i] = Math.max(rssPeak[i] ?? 0, memoryOf(p.child.pid).rss))), 500);

    const before = await redisCounters(redis);
    const cpuBefore = procs.map((p) => cpuMsOf(p.child.pid));
    counter.reset();
    const t0 = performance.now();
    const startedAt = Date.now();
    let pacer: Promise<void> = Promise.resolve();
    if (o.arrival === 'burst') {
      await queue.resume();
    } else {
      const rate = o.arrival.rate;
      // ticks of 50 ms, each enqueueing what the rate owes since the start
      pacer = (async () => {
        let sent = 0;
        while (sent < o.messages) {
          const owed = Math.min(o.messages, Math.floor(((performance.now() - t0) / 1000) * rate) + 1);
          if (owed > sent) {
            const n = owed - sent;
            await enqueueAll(sent, n);
            sent += n;
          }
          await sleep(50);
        }
      })();
    }
    const maxRunMs = o.maxRunMs ?? 1_800_000;
    let counts = { completed: 0, failed: 0 };
    for (;;) {
      const c = await queue.getJobCounts('completed', 'failed');
      counts = { completed: c.completed ?? 0, failed: c.failed ?? 0 };
      if (counts.completed + counts.failed >= o.messages) break;
      if (performance.now() - t0 > maxRunMs) throw new Error(`${o.variant}: only ${counts.completed + counts.failed}/${o.messages} finished in ${maxRunMs / 1000} s`);
      const dead = procs.find((p) => p.child.exitCode !== null);
      if (dead) throw new Error(`a worker process exited during the run:\n${dead.output().slice(-4000)}`);
      await sleep(100);
    }
    const elapsedMs = performance.now() - t0;
    await pacer;
    const after = await redisCounters(redis);
    const pg = counter.counts().total;
    const workerCpuMs = procs.reduce((a, p, i) => a + cpuMsOf(p.child.pid) - (cpuBefore[i] ?? 0), 0);
    clearInterval(sampler);
    const rssMb = procs.map((p, i) => {
      const m = memoryOf(p.child.pid);
      return { peak: round1(Math.max(rssPeak[i] ?? 0, m.hwm)), end: round1(m.rss) };
    });
    const loadAverage = readLoadAverage();

    // queue wait, from the jobs' own timestamps
    const waits: number[] = [];
    const afterCall: number[] = [];
    for (let i = 0; i < o.messages; i += 1000) {
      const jobs = await queue.getJobs(['completed', 'failed'], i, i + 999, true);
      for (const j of jobs) {
        if (j.processedOn !== undefined) waits.push(j.processedOn - Math.max(j.timestamp, startedAt));
        const last = (j.returnvalue as { attempts?: Array<{ at: number; latencyMs?: number }> } | null)?.attempts?.at(-1);
        if (last && j.finishedOn !== undefined) afterCall.push(j.finishedOn - (last.at + (last.latencyMs ?? 0)));
      }
    }
    const stats = (xs: number[]): { p50: number; p99: number; max: number } => {
      xs.sort((a, b) => a - b);
      const pick = (q: number): number => xs[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? 0;
      return { p50: pick(0.5), p99: pick(0.99), max: xs[xs.length - 1] ?? 0 };
    };

    return {
      variant: o.variant,
      arrival: o.arrival,
      workers: o.workers,
      concurrency: o.concurrency,
      messages: o.messages,
      tenants: o.tenants,
      latencyMs: o.latencyMs,
      elapsedMs,
      perSecond: (o.messages * 1000) / elapsedMs,
      completed: counts.completed,
      failed: counts.failed,
      queueWaitMs: stats(waits),
      afterCallMs: stats(afterCall),
      rssMb,
      workerCpuMsPerMessage: workerCpuMs / o.messages,
      redis: redisWork(before, after, o.messages, elapsedMs),
      enqueue,
      pgStatements: pg,
      pgPerMessage: pg / o.messages,
      loadAverage,
    };
  } finally {
    if (sampler) clearInterval(sampler);
    await Promise.all(procs.map(stopProcess));
    await client.close();
    await queue.close();
    redis.disconnect();
    await sim.close();
    await counter.close();
    await env.cleanup();
  }
}

export function readLoadAverage(): [number, number, number] {
  try {
    const [a = 0, b = 0, c = 0] = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
    return [a, b, c];
  } catch {
    return [0, 0, 0];
  }
}

const round1 = (x: number): number => Math.round(x * 10) / 10;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
