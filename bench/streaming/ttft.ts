/**
 * Time to first token that quotaflow adds to a streamed job: per stream,
 * (the reader in this process receives its first `chunk` event) minus (the
 * in-process stand-in wrote its first chunk to the socket), both read from
 * performance.now() in this process. In between: the worker process reading
 * the stand-in's stream, writing the chunk event to Redis, and the client's
 * reader picking it up. The stand-in sends its first chunk 300 ms after the
 * request and its last at 2 s, so the upstream's own latency is not counted.
 *
 * Memory: the worker's resident set (VmRSS from /proc) idle, and with
 * `memoryStreams` streams in flight at once (the stand-in's chunk interval
 * raised so they overlap); VmHWM is the worker's peak over its life.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { matchedConfigs } from '../../test/helpers/fleets.js';
import { startStack, type Stack } from '../../test/helpers/stack.js';
import { percentile } from '../quality/metrics.js';

const MODEL = 'gemini-2.5-flash';
/** "[gemini-2.5-flash] echo: " plus an 80-character prompt, in chunks of 48: three chunks, the first holding the stream's tag. */
const CHUNK_CHARS = 48;
const FIRST_CHUNK_MS = 300;
const TOTAL_MS = 2000;
const CHUNKS = 3;
/** While the memory sample is taken: chunks 20 s apart, so every stream stays open. */
const MEMORY_CHUNK_INTERVAL_MS = 20_000;

export interface TtftRun {
  concurrency: number;
  /** streams measured (warm-up not counted) */
  streams: number;
  /** reader's first chunk minus the stand-in's first chunk write, ms */
  addedMs: { p50: number | null; p99: number | null; max: number | null };
  /** streams that failed or whose first chunk could not be paired with the stand-in's write */
  failed: number;
}

export interface StreamingMemory {
  streams: number;
  /** worker VmRSS before the streams, kB */
  idleKb: number | null;
  /** worker VmRSS once every stream had its first chunk (largest of a few samples), kB */
  inFlightKb: number | null;
  /** worker VmHWM (peak RSS of its life) after the run, kB */
  peakKb: number | null;
  /** streams that had their first chunk when the sample was taken */
  inFlightAtSample: number;
  failed: number;
}

export interface StreamingResult {
  firstChunkMs: number;
  totalMs: number;
  workerConcurrency: number;
  ttft: TtftRun[];
  memory: StreamingMemory | null;
  /** 1-minute load average at start and end of the run */
  loadavg: { start: number; end: number };
}

function procStatusKb(pid: number | undefined, field: 'VmRSS' | 'VmHWM'): number | null {
  if (pid === undefined) return null;
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

const round1 = (x: number | null): number | null => (x === null ? null : Math.round(x * 10) / 10);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runTtftBench(opts: { samples: number; rounds: number; roundSize?: number; memoryStreams: number; workerConcurrency?: number; log?: (line: string) => void }): Promise<StreamingResult> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const roundSize = opts.roundSize ?? 64;
  const workerConcurrency = opts.workerConcurrency ?? 600;
  const load0 = loadavg()[0] ?? 0;
  /** stand-in's first chunk write per stream tag, performance.now() */
  const written = new Map<number, number>();
  const limits = { [MODEL]: { rpm: 10_000_000, tpm: 1_000_000_000, rpd: 100_000_000 } };
  const m = matchedConfigs({
    models: [MODEL],
    projects: { pc: limits },
    tenants: [{ id: 'bench', keyMode: 'central-only' }],
    keys: [{ id: 'c1', tenant: null, project: 'pc' }],
    sim: { stream: { chunkChars: CHUNK_CHARS, firstChunkDelayMs: FIRST_CHUNK_MS, chunkIntervalMs: Math.round((TOTAL_MS - FIRST_CHUNK_MS) / (CHUNKS - 1)) } },
  });
  const stack: Stack = await startStack({
    name: `bench-ttft-${randomBytes(3).toString('hex')}`,
    sim: m.sim,
    env: { LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info' },
    simOptions: {
      onChunkWritten: (_responseId, index, chunk) => {
        if (index !== 0) return;
        const tag = /#(\d+)#/.exec(JSON.stringify(chunk));
        if (tag) written.set(Number(tag[1]), performance.now());
      },
    },
  });
  try {
    await stack.applyFleet(m.fleet);
    const worker = await stack.startWorker(['--concurrency', String(workerConcurrency)]);
    const pid = worker.child.pid;
    let seq = 0;
    /** One streamed job read to its end; the reader's first chunk time, or null when it failed. */
    const one = async (onFirst?: () => void): Promise<{ tag: number; firstRead: number | null }> => {
      const tag = ++seq;
      const contents = `#${tag}# time to first token, measured by the streaming benchmark`.padEnd(80, '.');
      let firstRead: number | null = null;
      try {
        for await (const e of stack.client.stream({ tenantId: 'bench', contents, models: [MODEL] })) {
          if (e.type === 'chunk' && firstRead === null) {
            firstRead = performance.now();
            onFirst?.();
          }
        }
      } catch {
        return { tag, firstRead: null };
      }
      return { tag, firstRead };
    };
    const addedOf = (r: { tag: number; firstRead: number | null }): number | null => {
      const w = written.get(r.tag);
      return r.firstRead === null || w === undefined ? null : r.firstRead - w;
    };
    const summarise = (concurrency: number, results: Array<{ tag: number; firstRead: number | null }>): TtftRun => {
      const added = results.map(addedOf);
      const ok = added.filter((x): x is number => x !== null).sort((a, b) => a - b);
      return { concurrency, streams: results.length, addedMs: { p50: round1(percentile(ok, 50)), p99: round1(percentile(ok, 99)), max: round1(ok.at(-1) ?? null) }, failed: added.length - ok.length };
    };

    const runs: TtftRun[] = [];
    // concurrency 1: warm-up (JIT, connections), then one stream after the other
    for (let i = 0; i < 5; i++) await one();
    const c1: Array<{ tag: number; firstRead: number | null }> = [];
    for (let i = 0; i < opts.samples; i++) c1.push(await one());
    runs.push(summarise(1, c1));
    log(`  concurrency 1:   ${c1.length} streams, added p50 ${runs[0]?.addedMs.p50} ms, p99 ${runs[0]?.addedMs.p99} ms, max ${runs[0]?.addedMs.max} ms, failed ${runs[0]?.failed}`);
    // concurrency 64: rounds of `roundSize` streams started at once; one warm-up round
    await Promise.all(Array.from({ length: roundSize }, () => one()));
    const c64: Array<{ tag: number; firstRead: number | null }> = [];
    for (let r = 0; r < opts.rounds; r++) c64.push(...(await Promise.all(Array.from({ length: roundSize }, () => one()))));
    const r64 = summarise(roundSize, c64);
    runs.push(r64);
    log(`  concurrency ${String(roundSize).padEnd(3)} ${c64.length} streams, added p50 ${r64.addedMs.p50} ms, p99 ${r64.addedMs.p99} ms, max ${r64.addedMs.max} ms, failed ${r64.failed}`);

    let memory: StreamingMemory | null = null;
    if (opts.memoryStreams > 0) {
      await sleep(2000);
      const idleKb = procStatusKb(pid, 'VmRSS');
      stack.sim.setFaults({ rules: [{ stream: { chunkIntervalMs: MEMORY_CHUNK_INTERVAL_MS } }] });
      let started = 0;
      const all = Promise.all(Array.from({ length: opts.memoryStreams }, () => one(() => void started++)));
      // every stream has its first chunk (or a minute passed): sample the worker a few times
      for (let i = 0; i < 600 && started < opts.memoryStreams; i++) await sleep(100);
      const inFlightAtSample = started;
      let inFlightKb: number | null = null;
      for (let i = 0; i < 5; i++) {
        const kb = procStatusKb(pid, 'VmRSS');
        if (kb !== null) inFlightKb = Math.max(inFlightKb ?? 0, kb);
        await sleep(200);
      }
      const results = await all;
      stack.sim.setFaults({ rules: [] });
      memory = { streams: opts.memoryStreams, idleKb, inFlightKb, peakKb: procStatusKb(pid, 'VmHWM'), inFlightAtSample, failed: results.filter((r) => r.firstRead === null).length };
      const mb = (kb: number | null): string => (kb === null ? '?' : `${(kb / 1024).toFixed(1)} MB`);
      log(`  worker RSS idle ${mb(idleKb)}, with ${inFlightAtSample}/${opts.memoryStreams} streams in flight ${mb(inFlightKb)}, peak ${mb(memory.peakKb)}, failed ${memory.failed}`);
    }
    return { firstChunkMs: FIRST_CHUNK_MS, totalMs: TOTAL_MS, workerConcurrency, ttft: runs, memory, loadavg: { start: round1(load0) ?? 0, end: round1(loadavg()[0] ?? 0) ?? 0 } };
  } finally {
    await stack.stop();
  }
}
