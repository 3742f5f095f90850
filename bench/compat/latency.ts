/**
 * What the drop-in path costs: the same generateContent calls with
 * @google/genai, once straight to the stand-in and once through a real
 * `quotaflow api` process (token auth, translation, queue, a worker process,
 * admission, the stand-in, the answer back), at a given concurrency. Added
 * latency is the difference of the percentiles; the api's CPU per call is
 * read from /proc (user + system time of its process over the drop-in run).
 *
 * Waiting calls: one api process holding many concurrent calls that wait
 * for a slow stand-in (1 s per answer), with enough worker slots that the
 * calls wait in the api rather than in the queue; its memory, open file
 * descriptors and CPU are sampled from /proc while they wait.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { GoogleGenAI } from '@google/genai';
import { startCompatStack } from '../../test/helpers/compat-stack.js';
import { matchedConfigs } from '../../test/helpers/fleets.js';
import { percentile } from '../quality/metrics.js';

const MODEL = 'gemini-2.5-flash';
/** Linux reports process times in clock ticks of 1/100 s. */
const TICK_MS = 10;

export interface Percentiles {
  p50: number | null;
  p99: number | null;
}

export interface CompatLatencyRun {
  concurrency: number;
  calls: number;
  directMs: Percentiles;
  dropInMs: Percentiles;
  /** the same calls through the Node client (queue, worker, stand-in; no HTTP api): what of the added latency is the queue's */
  nodeClientMs: Percentiles;
  /** drop-in minus direct, per percentile */
  addedMs: Percentiles;
  /** user + system CPU of the api process per drop-in call */
  apiCpuMsPerCall: number | null;
  failed: number;
}

function cpuMs(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    // fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return null;
  }
}

const round1 = (x: number | null): number | null => (x === null ? null : Math.round(x * 10) / 10);

/** Runs `calls` calls of `call`, `concurrency` at a time; returns each one's latency (ms, sorted) and the failures. */
async function measure(calls: number, concurrency: number, call: (i: number) => Promise<unknown>): Promise<{ latencies: number[]; failed: number }> {
  const latencies: number[] = [];
  let next = 0;
  let failed = 0;
  const lane = async (): Promise<void> => {
    while (next < calls) {
      const i = next++;
      const t0 = performance.now();
      try {
        await call(i);
        latencies.push(performance.now() - t0);
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return { latencies: latencies.sort((a, b) => a - b), failed };
}

/**
 * One stack for every concurrency: for each, a warm-up of both paths (not
 * counted), then the direct run, then the drop-in run.
 */
export async function runCompatLatency(o: { concurrencies: number[]; callsPerRun: (concurrency: number) => number; workerConcurrency: number }): Promise<CompatLatencyRun[]> {
  const limits = { [MODEL]: { rpm: 10_000_000, tpm: 1_000_000_000, rpd: 100_000_000 } };
  const token = randomBytes(24).toString('hex');
  const m = matchedConfigs({ models: [MODEL], projects: { pc: limits }, tenants: [{ id: 'bench', keyMode: 'central-only' }], keys: [{ id: 'c1', tenant: null, project: 'pc' }] });
  const fleet = { ...(m.fleet as Record<string, unknown>), tenants: [{ id: 'bench', keyMode: 'central-only', token }] };
  const stack = await startCompatStack({
    name: `bench-compat-${randomBytes(3).toString('hex')}`,
    sim: m.sim,
    fleet,
    // workers at info: the stack waits for their 'started' line
    apiLogLevel: process.env.BENCH_LOG_LEVEL ?? 'info',
    workerArgs: ['--concurrency', String(o.workerConcurrency)],
  });
  try {
    const direct = new GoogleGenAI({ apiKey: m.secretOf('c1'), httpOptions: { baseUrl: stack.sim.url, retryOptions: { attempts: 1 } } });
    const dropIn = new GoogleGenAI({ apiKey: token, httpOptions: { baseUrl: stack.url, retryOptions: { attempts: 1 } } });
    const ask = (ai: GoogleGenAI) => (i: number) => ai.models.generateContent({ model: MODEL, contents: `benchmark message ${i}` });
    const runs: CompatLatencyRun[] = [];
    for (const concurrency of o.concurrencies) {
      const calls = o.callsPerRun(concurrency);
      await measure(Math.min(calls, 4 * concurrency + 20), concurrency, ask(direct));
      await measure(Math.min(calls, 4 * concurrency + 20), concurrency, ask(dropIn));
      const d = await measure(calls, concurrency, ask(direct));
      const n = await measure(calls, concurrency, (i) => stack.client.generate({ tenantId: 'bench', contents: `benchmark message ${i}`, models: [MODEL] }, { timeoutMs: 60_000 }));
      const cpu0 = cpuMs(stack.api.child.pid);
      const q = await measure(calls, concurrency, ask(dropIn));
      const cpu1 = cpuMs(stack.api.child.pid);
      const pct = (xs: number[], p: number): number | null => round1(percentile(xs, p));
      const directMs = { p50: pct(d.latencies, 50), p99: pct(d.latencies, 99) };
      const dropInMs = { p50: pct(q.latencies, 50), p99: pct(q.latencies, 99) };
      const diff = (a: number | null, b: number | null): number | null => (a === null || b === null ? null : round1(a - b));
      runs.push({
        concurrency,
        calls,
        directMs,
        dropInMs,
        nodeClientMs: { p50: pct(n.latencies, 50), p99: pct(n.latencies, 99) },
        addedMs: { p50: diff(dropInMs.p50, directMs.p50), p99: diff(dropInMs.p99, directMs.p99) },
        apiCpuMsPerCall: cpu0 === null || cpu1 === null ? null : round1((cpu1 - cpu0) / calls),
        failed: d.failed + n.failed + q.failed,
      });
    }
    return runs;
  } finally {
    await stack.stop();
  }
}

export interface CompatWaitingRun {
  /** concurrent callers, each starting its next call when one returns */
  waiting: number;
  calls: number;
  standInLatencyMs: number;
  workers: number;
  workerConcurrency: number;
  elapsedMs: number;
  requestsPerSecond: number;
  failed: number;
  /** the first failure's message, when any failed */
  firstError: string | null;
  clientMs: Percentiles;
  /** VmRSS of the api process (MiB): before any call, and the highest sample (every 250 ms) during the run */
  apiRssMiB: { idle: number | null; max: number | null };
  /** entries of /proc/PID/fd of the api process: before any call, and the highest sample during the run */
  apiOpenFds: { idle: number | null; max: number | null };
  /** api user + system CPU over the run: cores busy on average, and ms per call */
  apiCpu: { cores: number | null; msPerCall: number | null };
  /** where the rest of the CPU went, cores busy on average over the run: the worker processes together, and the bench process (the SDK callers and the in-process stand-in) */
  otherCpuCores: { workers: number | null; bench: number };
  /** `ulimit -n` (soft) of the bench process, which the api inherits */
  openFilesLimit: number | null;
  /** 1/5/15-minute load averages before the stack started and after the run */
  loadAverage: { before: number[]; after: number[] };
}

function rssMiB(pid: number): number | null {
  try {
    const kb = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? null : Math.round((Number(kb) / 1024) * 10) / 10;
  } catch {
    return null;
  }
}

function openFds(pid: number): number | null {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

function openFilesLimit(): number | null {
  const soft = /Max open files\s+(\d+)/.exec(safeRead('/proc/self/limits'))?.[1];
  return soft === undefined ? null : Number(soft);
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

const maxOf = (xs: Array<number | null>): number | null => {
  const ys = xs.filter((x): x is number => x !== null);
  return ys.length ? Math.max(...ys) : null;
};

/**
 * `waiting` callers at once against one api, `calls` calls in all, through
 * `workers` worker processes of `workerConcurrency` slots each (more slots
 * than callers, so each call waits in the api for the stand-in's answer).
 */
export async function runCompatWaiting(o: { waiting: number; calls: number; workers: number; workerConcurrency: number; standInLatencyMs: number }): Promise<CompatWaitingRun> {
  const loadBefore = loadavg().map((x) => Math.round(x * 100) / 100);
  const limits = { [MODEL]: { rpm: 10_000_000, tpm: 1_000_000_000, rpd: 100_000_000 } };
  const token = randomBytes(24).toString('hex');
  const m = matchedConfigs({
    models: [MODEL],
    projects: { pc: limits },
    tenants: [{ id: 'bench', keyMode: 'central-only' }],
    keys: [{ id: 'c1', tenant: null, project: 'pc' }],
    sim: { latencyMs: { min: o.standInLatencyMs, max: o.standInLatencyMs } },
  });
  const fleet = { ...(m.fleet as Record<string, unknown>), tenants: [{ id: 'bench', keyMode: 'central-only', token }] };
  const stack = await startCompatStack({
    name: `bench-compat-waiting-${randomBytes(3).toString('hex')}`,
    sim: m.sim,
    fleet,
    apiLogLevel: process.env.BENCH_LOG_LEVEL ?? 'info',
    workers: o.workers,
    workerArgs: ['--concurrency', String(o.workerConcurrency)],
  });
  try {
    const pid = stack.api.child.pid;
    if (pid === undefined) throw new Error('the api has no pid');
    // idle: a few samples a second after start, before any call
    const idleRss: Array<number | null> = [];
    const idleFds: Array<number | null> = [];
    for (let i = 0; i < 4; i++) {
      idleRss.push(rssMiB(pid));
      idleFds.push(openFds(pid));
      await new Promise((r) => setTimeout(r, 250));
    }
    const dropIn = new GoogleGenAI({ apiKey: token, httpOptions: { baseUrl: stack.url, retryOptions: { attempts: 1 } } });
    let firstError: string | null = null;
    const ask = async (i: number): Promise<void> => {
      try {
        await dropIn.models.generateContent({ model: MODEL, contents: `benchmark message ${i}` });
      } catch (err) {
        firstError ??= err instanceof Error ? err.message.slice(0, 300) : String(err);
        throw err;
      }
    };
    const rss: Array<number | null> = [];
    const fds: Array<number | null> = [];
    const sample = (): void => {
      rss.push(rssMiB(pid));
      fds.push(openFds(pid));
    };
    const sampler = setInterval(sample, 250);
    const workersCpu = (): number | null => {
      const xs = stack.workers.map((w) => cpuMs(w.child.pid));
      return xs.some((x) => x === null) ? null : xs.reduce<number>((a, b) => a + (b ?? 0), 0);
    };
    const workers0 = workersCpu();
    const bench0 = process.cpuUsage();
    const cpu0 = cpuMs(pid);
    const t0 = performance.now();
    let r: { latencies: number[]; failed: number };
    try {
      r = await measure(o.calls, o.waiting, ask);
    } finally {
      clearInterval(sampler);
    }
    const elapsedMs = performance.now() - t0;
    const cpu1 = cpuMs(pid);
    const workers1 = workersCpu();
    const bench1 = process.cpuUsage(bench0);
    sample();
    const cores = (ms: number): number => Math.round((ms / elapsedMs) * 100) / 100;
    const cpu = cpu0 === null || cpu1 === null ? null : cpu1 - cpu0;
    return {
      waiting: o.waiting,
      calls: o.calls,
      standInLatencyMs: o.standInLatencyMs,
      workers: o.workers,
      workerConcurrency: o.workerConcurrency,
      elapsedMs: Math.round(elapsedMs),
      requestsPerSecond: round1((r.latencies.length / elapsedMs) * 1000) ?? 0,
      failed: r.failed,
      firstError,
      clientMs: { p50: round1(percentile(r.latencies, 50)), p99: round1(percentile(r.latencies, 99)) },
      apiRssMiB: { idle: maxOf(idleRss), max: maxOf(rss) },
      apiOpenFds: { idle: maxOf(idleFds), max: maxOf(fds) },
      apiCpu: { cores: cpu === null ? null : cores(cpu), msPerCall: cpu === null ? null : round1(cpu / o.calls) },
      otherCpuCores: { workers: workers0 === null || workers1 === null ? null : cores(workers1 - workers0), bench: cores((bench1.user + bench1.system) / 1000) },
      openFilesLimit: openFilesLimit(),
      loadAverage: { before: loadBefore, after: loadavg().map((x) => Math.round(x * 100) / 100) },
    };
  } finally {
    await stack.stop();
  }
}
