/**
 * `npm run bench [-- --scenario FILE ...] [--out DIR] [--no-overhead | --overhead-only] [--no-fairness | --fairness-only] [--no-compat | --compat-only] [--compat-calls N] [--compat-waiting N] [--no-discovery | --discovery-only] [--no-realistic | --realistic-only] [--no-scaling | --scaling-only] [--no-streaming | --streaming-only]` (`--help` lists every flag)
 *
 * Quality: every scenario (bench/scenarios/*.json, or the files given) runs
 * under quotaflow and under the baseline (the old algorithm), same stand-in,
 * same workload. Overhead: throughput against a naive worker (interleaved
 * A/B/A/B), lease latency at 10/100/1000 keys, Redis commands and Postgres
 * statements per message, on a private redis-server. Fairness: the noisy
 * neighbour with and without fair share, and the Redis commands a tenant's
 * limits add per message. Drop-in: the latency the Gemini-compatible
 * endpoint adds over calling the stand-in directly with @google/genai, and
 * the api's CPU per call; then one api holding --compat-waiting concurrent
 * calls (default 1000, 0 skips) against a 1 s stand-in: requests/s, client
 * latency, the api's memory, open file descriptors and CPU. Discovery: limits nobody configured, learned with
 * and without quotaValue and after a tier raise (bench/discovery/run.ts).
 * Realistic: 4 worker processes × 250 against
 * 0.5-3 s upstream latency, 20,000 messages of 50 tenants, against the naive
 * worker. Scaling: 1, 2, 4 worker processes at zero latency, with Redis
 * commands, bytes and CPU and Postgres statements per message. Results go to
 * DIR/results.json, DIR/results.md, DIR/<scenario>.svg, DIR/discovery.json
 * and DIR/discovery-<case>.svg.
 */
import { readFileSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { hasRedisServer, startPrivateRedis } from '../src/cli/demo/private-redis.js';
import { loadConfig } from '../src/config.js';
import { TEST_DATABASE_ADMIN_URL } from '../test/helpers/postgres.js';
import { runDiscoveryBench } from './discovery/run.js';
import { runLimitCost, type LimitCostRun, type LimitVariant } from './fairness/limit-cost.js';
import { runNoisyNeighbour, type FairnessVariant, type NoisyNeighbourRun } from './fairness/noisy-neighbour.js';
import { runCompatLatency, runCompatWaiting, type CompatLatencyRun, type CompatWaitingRun } from './compat/latency.js';
import { runTtftBench, type StreamingResult } from './streaming/ttft.js';
import { runLeaseLatency } from './overhead/lease.js';
import { runRealistic } from './realistic/index.js';
import { runScaling } from './scaling/index.js';
import { runThroughput, type ThroughputRun, type Variant } from './overhead/throughput.js';
import { qualityOf } from './quality/metrics.js';
import { runPolicy } from './quality/run-policy.js';
import { toMarkdown, targetsOf, type BenchResults, type FairnessResult, type Machine, type OverheadResult, type ScenarioResult } from './report/markdown.js';
import { timelineSvg } from './report/svg.js';
import { loadScenario } from './scenario.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      scenario: { type: 'string', multiple: true },
      out: { type: 'string' },
      'no-overhead': { type: 'boolean' },
      'overhead-only': { type: 'boolean' },
      'no-fairness': { type: 'boolean' },
      'fairness-only': { type: 'boolean' },
      'no-compat': { type: 'boolean' },
      'compat-only': { type: 'boolean' },
      'compat-calls': { type: 'string' },
      'compat-waiting': { type: 'string' },
      'no-discovery': { type: 'boolean' },
      'discovery-only': { type: 'boolean' },
      'no-streaming': { type: 'boolean' },
      'streaming-only': { type: 'boolean' },
      'ttft-samples': { type: 'string' },
      'ttft-rounds': { type: 'string' },
      'memory-streams': { type: 'string' },
      'noisy-jobs': { type: 'string' },
      messages: { type: 'string' },
      rounds: { type: 'string' },
      concurrency: { type: 'string' },
      'lease-iterations': { type: 'string' },
      'no-realistic': { type: 'boolean' },
      'realistic-only': { type: 'boolean' },
      'realistic-messages': { type: 'string' },
      'realistic-workers': { type: 'string' },
      'realistic-concurrency': { type: 'string' },
      'realistic-tenants': { type: 'string' },
      'realistic-paced-seconds': { type: 'string' },
      'no-scaling': { type: 'boolean' },
      'scaling-only': { type: 'boolean' },
      'scaling-messages': { type: 'string' },
      'scaling-workers': { type: 'string' },
      'scaling-concurrency': { type: 'string' },
      'scaling-tenants': { type: 'string' },
      'no-scaling-naive': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: false,
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  const onlys = (['overhead', 'fairness', 'compat', 'discovery', 'streaming', 'realistic', 'scaling'] as const).filter((s) => values[`${s}-only`]);
  /** a section runs when it is asked for alone, or when nothing is asked for alone and it is not switched off (scenario files alone mean quality only) */
  const wants = (s: (typeof onlys)[number]): boolean => (onlys.length ? onlys.includes(s) : !values[`no-${s}`] && !values.scenario?.length);
  const outDir = resolve(values.out ?? join(HERE, 'results'));
  await mkdir(outDir, { recursive: true });
  const redisUrl = loadConfig().redisUrl;
  const files = values.scenario?.length
    ? values.scenario.map((f) => resolve(f))
    : (await readdir(join(HERE, 'scenarios'))).filter((f) => f.endsWith('.json')).sort().map((f) => join(HERE, 'scenarios', f));
  const results: BenchResults = {
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    startedAt: new Date().toISOString(),
    finishedAt: '',
    machine: await machine(redisUrl),
    quality: [],
    fairness: null,
    overhead: null,
    compat: null,
    realistic: null,
    scaling: null,
    streaming: null,
  };
  const save = async (): Promise<void> => {
    results.finishedAt = new Date().toISOString();
    await writeFile(join(outDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
    await writeFile(join(outDir, 'results.md'), toMarkdown(results));
  };
  console.log(`quotaflow bench → ${outDir}`);
  console.log(`machine: ${results.machine.nproc} × ${results.machine.cpu}, Node ${results.machine.node}\n`);

  if (!onlys.length) {
    for (const file of files) {
      const s = await loadScenario(file);
      console.log(`▶ ${s.name}: ${s.workload.messages} messages, ${s.keys.length} keys, ${s.workers.count} worker(s) × ${s.workers.concurrency}`);
      const qf = qualityOf(s, await runPolicy(s, 'quotaflow', redisUrl));
      const bl = qualityOf(s, await runPolicy(s, 'baseline', redisUrl));
      const sr: ScenarioResult = { scenario: s.name, description: s.description, matchedLimits: Object.keys(s.standInOnlyLimits).length === 0, quotaflow: qf, baseline: bl };
      results.quality.push(sr);
      for (const q of [qf, bl]) {
        console.log(`  ${q.policy.padEnd(9)} completed ${q.completed}/${q.messages}, failed ${q.failed}, lost ${q.lost}, 429/1000 ${q.per1000_429.toFixed(1)}, violations ${q.priority.violations}, p50/p99 ${q.latencyMs.p50}/${q.latencyMs.p99} ms, served ${JSON.stringify(q.servedByModel)}`);
      }
      await writeFile(join(outDir, `${s.name}.svg`), timelineSvg(s.name, [qf, bl]));
      await save();
    }
  }

  if (wants('fairness')) {
    results.fairness = await fairness({ noisy: Number(values['noisy-jobs'] ?? 3000), messages: Number(values.messages ?? 2000), rounds: Number(values.rounds ?? 2), concurrency: Number(values.concurrency ?? 16), fallbackRedis: redisUrl });
    await save();
  }

  if (wants('overhead')) {
    results.overhead = await overhead({
      messages: Number(values.messages ?? 2000),
      rounds: Number(values.rounds ?? 2),
      concurrency: Number(values.concurrency ?? 16),
      leaseIterations: Number(values['lease-iterations'] ?? 1000),
      fallbackRedis: redisUrl,
    });
    await save();
  }
  if (wants('compat')) {
    results.compat = await compat(values['compat-calls'] === undefined ? undefined : Number(values['compat-calls']));
    await save();
    const waiting = Number(values['compat-waiting'] ?? 1000);
    if (!Number.isInteger(waiting) || waiting < 0) throw new Error('--compat-waiting takes a whole number (0 skips the waiting-calls run)');
    if (waiting > 0) {
      results.compatWaiting = await compatWaiting(waiting);
      await save();
    }
  }

  if (wants('discovery')) await runDiscoveryBench({ outDir, redisUrl });

  if (wants('realistic')) {
    results.realistic = await onPrivateRedis(redisUrl, (url, pgPort) =>
      runRealistic({
        messages: int(values['realistic-messages'], 20_000),
        workers: int(values['realistic-workers'], 4),
        concurrency: int(values['realistic-concurrency'], 250),
        tenants: int(values['realistic-tenants'], 50),
        latencyMs: { min: 500, max: 3_000 },
        pacedSeconds: int(values['realistic-paced-seconds'], 60),
        redisUrl: url,
        pgPort,
      }),
    );
    await save();
  }

  if (wants('scaling')) {
    results.scaling = await onPrivateRedis(redisUrl, (url, pgPort) =>
      runScaling({
        messages: int(values['scaling-messages'], 3_000),
        workers: (values['scaling-workers'] ?? '1,2,4').split(',').map((w) => int(w, 1)),
        concurrency: int(values['scaling-concurrency'], 32),
        tenants: int(values['scaling-tenants'], 50),
        naive: !values['no-scaling-naive'],
        redisUrl: url,
        pgPort,
      }),
    );
    await save();
  }
  if (wants('streaming')) {
    results.streaming = await streaming({ samples: Number(values['ttft-samples'] ?? 50), rounds: Number(values['ttft-rounds'] ?? 10), memoryStreams: Number(values['memory-streams'] ?? 500) });
    await save();
  }
  await save();
  console.log('\ntargets:');
  for (const t of targetsOf(results)) console.log(`  ${t.met ? 'met   ' : 'MISSED'} ${t.name}: ${t.actual} (goal ${t.goal})`);
  console.log(`\nwrote ${join(outDir, 'results.md')}, results.json and one SVG per scenario`);
}

async function compat(calls: number | undefined): Promise<CompatLatencyRun[]> {
  const concurrencies = [1, 64];
  console.log(`\n▶ drop-in: @google/genai generateContent through quotaflow api vs straight to the stand-in, concurrency ${concurrencies.join(' and ')}`);
  const runs = await runCompatLatency({ concurrencies, callsPerRun: (c) => calls ?? (c === 1 ? 300 : 1920), workerConcurrency: 64 });
  for (const r of runs) {
    console.log(
      `  concurrency ${String(r.concurrency).padEnd(3)} ${r.calls} calls: direct p50/p99 ${r.directMs.p50}/${r.directMs.p99} ms, Node client ${r.nodeClientMs.p50}/${r.nodeClientMs.p99} ms, drop-in ${r.dropInMs.p50}/${r.dropInMs.p99} ms, added ${r.addedMs.p50}/${r.addedMs.p99} ms, api CPU ${r.apiCpuMsPerCall} ms/call, failed ${r.failed}`,
    );
  }
  return runs;
}

async function compatWaiting(waiting: number): Promise<CompatWaitingRun> {
  const o = { waiting, calls: 4 * waiting, workers: 2, workerConcurrency: Math.ceil((0.6 * waiting) / 10) * 10, standInLatencyMs: 1000 };
  console.log(`\n▶ waiting calls: ${o.waiting} concurrent @google/genai calls into one quotaflow api, ${o.calls} in all, stand-in ${o.standInLatencyMs} ms, ${o.workers} workers × ${o.workerConcurrency}`);
  const w = await runCompatWaiting(o);
  console.log(
    `  ${w.requestsPerSecond} requests/s (${w.elapsedMs} ms), failed ${w.failed}${w.firstError ? ` (first: ${w.firstError})` : ''}, client p50/p99 ${w.clientMs.p50}/${w.clientMs.p99} ms, api RSS ${w.apiRssMiB.idle} → ${w.apiRssMiB.max} MiB, api fds ${w.apiOpenFds.idle} → ${w.apiOpenFds.max}, api CPU ${w.apiCpu.cores} cores, ${w.apiCpu.msPerCall} ms/call; workers ${w.otherCpuCores.workers} cores, bench process (callers + stand-in) ${w.otherCpuCores.bench} cores; ulimit -n ${w.openFilesLimit}; load average ${w.loadAverage.before.join(' ')} → ${w.loadAverage.after.join(' ')}`,
  );
  return w;
}

async function streaming(o: { samples: number; rounds: number; memoryStreams: number }): Promise<StreamingResult> {
  console.log(`\n▶ streaming: time to first token added (reader's first chunk − stand-in's first chunk write; stand-in first chunk at 300 ms, last at 2 s), ${o.samples} streams at concurrency 1, ${o.rounds} rounds of 64; worker RSS with ${o.memoryStreams} streams in flight`);
  return runTtftBench({ samples: o.samples, rounds: o.rounds, memoryStreams: o.memoryStreams });
}

async function overhead(o: { messages: number; rounds: number; concurrency: number; leaseIterations: number; fallbackRedis: string }): Promise<OverheadResult> {
  // A private redis-server, so INFO commandstats counts nothing but this run.
  const priv = hasRedisServer() ? await startPrivateRedis() : null;
  const redisUrl = priv?.url ?? o.fallbackRedis;
  if (!priv) console.warn('no redis-server binary: overhead runs on the shared Redis; command counts may include other traffic');
  const pgPort = Number(new URL(TEST_DATABASE_ADMIN_URL).port || 5432);
  try {
    console.log(`\n▶ overhead: ${o.messages} messages per run, concurrency ${o.concurrency}, ${o.rounds} interleaved rounds (redis ${redisUrl})`);
    const runs: ThroughputRun[] = [];
    // warm-up (JIT, module loading, connection pools): measured, not counted
    for (const variant of ['quotaflow', 'naive'] as Variant[]) {
      const w = await runThroughput({ variant, round: 0, messages: Math.min(500, o.messages), concurrency: o.concurrency, redisUrl, pgPort });
      console.log(`  warm-up ${variant.padEnd(9)} ${Math.round(w.perSecond)} msg/s (not counted)`);
    }
    for (let round = 1; round <= o.rounds; round++) {
      for (const variant of ['quotaflow', 'naive'] as Variant[]) {
        const r = await runThroughput({ variant, round, messages: o.messages, concurrency: o.concurrency, redisUrl, pgPort });
        console.log(`  round ${round} ${variant.padEnd(9)} ${Math.round(r.perSecond)} msg/s (${Math.round(r.elapsedMs)} ms), redis ${r.redis.perMessage.toFixed(1)} cmds/msg, postgres ${r.pgPerMessage.toFixed(2)} stmts/msg`);
        runs.push(r);
      }
    }
    const mean = (v: Variant): number => {
      const xs = runs.filter((r) => r.variant === v).map((r) => r.perSecond);
      return xs.reduce((a, b) => a + b, 0) / xs.length;
    };
    const ratio = mean('quotaflow') / mean('naive');
    console.log(`  throughput ratio quotaflow/naive: ${(ratio * 100).toFixed(1)}%`);
    const lease = [];
    for (const keys of [10, 100, 1000]) {
      const l = await runLeaseLatency({ keys, iterations: o.leaseIterations, redisUrl });
      console.log(`  lease at ${keys} keys: acquire p50 ${l.acquireMs.p50} ms, p99 ${l.acquireMs.p99} ms (plan p50 ${l.planMs.p50} ms)`);
      lease.push(l);
    }
    return { throughput: runs, ratio, lease };
  } finally {
    await priv?.stop();
  }
}

const HELP = `npm run bench -- [flags]

sections (all by default; --X-only runs X alone, several --X-only run those; --scenario FILE alone means quality only):
  --scenario FILE ...          quality: these scenario files instead of bench/scenarios/*.json
  --no-overhead | --overhead-only      throughput vs the naive worker (in process), lease latency at 10/100/1000 keys
  --no-fairness | --fairness-only      the noisy neighbour, what tenant limits cost
  --no-compat | --compat-only          the drop-in endpoint's added latency and api CPU per call
  --no-discovery | --discovery-only    limits nobody configured: with and without quotaValue, a tier raise (SVG curves)
  --no-streaming | --streaming-only    time to first token added to streamed jobs, a worker's memory with streams in flight
  --no-realistic | --realistic-only    worker processes against 0.5-3 s upstream latency, vs the naive worker
  --no-scaling | --scaling-only        1, 2, 4 worker processes at zero latency: msg/s, Redis and Postgres per message

sizes:
  --messages N                 overhead and tenant-limit runs (2000)
  --rounds N                   interleaved rounds (2)
  --concurrency N              overhead and fairness worker concurrency (16)
  --lease-iterations N         lease latency samples per key count (1000)
  --noisy-jobs N               noisy tenant's jobs (3000)
  --compat-calls N             drop-in calls per run (300 at concurrency 1, 1920 at 64)
  --compat-waiting N           calls one api holds waiting at once (1000; 0 skips that run)
  --ttft-samples N             streams one after the other at concurrency 1 (50)
  --ttft-rounds N              rounds of 64 streams started at once (10)
  --memory-streams N           streams in flight for the memory figure (500; 0 skips it)
  --realistic-messages N       (20000)
  --realistic-workers N        worker processes (4)
  --realistic-concurrency N    per process (250)
  --realistic-tenants N        (50)
  --realistic-paced-seconds N  length of the paced runs at half quotaflow's burst rate; 0 skips them (60)
  --scaling-messages N         per run (3000)
  --scaling-workers LIST       process counts (1,2,4)
  --scaling-concurrency N      per process (32)
  --scaling-tenants N          (50)
  --no-scaling-naive           skip the naive worker's runs

  --out DIR                    where results.json, results.md and the SVGs go (bench/results)`;

function int(v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`not a whole number: ${v}`);
  return n;
}

/** A private redis-server, so INFO counts nothing but this run (the shared one when there is no redis-server binary). */
async function onPrivateRedis<T>(fallbackRedis: string, f: (redisUrl: string, pgPort: number) => Promise<T>): Promise<T> {
  const priv = hasRedisServer() ? await startPrivateRedis() : null;
  if (!priv) console.warn('no redis-server binary: running on the shared Redis; counts may include other traffic');
  try {
    return await f(priv?.url ?? fallbackRedis, Number(new URL(TEST_DATABASE_ADMIN_URL).port || 5432));
  } finally {
    await priv?.stop();
  }
}

async function fairness(o: { noisy: number; messages: number; rounds: number; concurrency: number; fallbackRedis: string }): Promise<FairnessResult> {
  console.log(`\n▶ noisy neighbour: ${o.noisy} jobs of one tenant at once, then 20 of another, one every 100 ms (stand-in 100 ms, concurrency ${o.concurrency})`);
  const noisyNeighbour: NoisyNeighbourRun[] = [];
  for (const variant of ['fair-share', 'fifo'] as FairnessVariant[]) {
    const r = await runNoisyNeighbour({ variant, noisy: o.noisy, quiet: 20, concurrency: o.concurrency, redisUrl: o.fallbackRedis });
    console.log(`  ${variant.padEnd(10)} quiet tenant waits p50 ${r.quietWaitMs.p50} ms, p99 ${r.quietWaitMs.p99} ms; noisy jobs started meanwhile ${r.noisyStartedMeanwhile}`);
    noisyNeighbour.push(r);
  }
  // a private redis-server, so INFO commandstats counts nothing but this run
  const priv = hasRedisServer() ? await startPrivateRedis() : null;
  const redisUrl = priv?.url ?? o.fallbackRedis;
  if (!priv) console.warn('no redis-server binary: the limit cost runs on the shared Redis; command counts may include other traffic');
  try {
    console.log(`\n▶ tenant limits: ${o.messages} messages per run, ${o.rounds} interleaved rounds (redis ${redisUrl})`);
    const limitCost: LimitCostRun[] = [];
    for (let round = 0; round <= o.rounds; round++) {
      for (const variant of ['no limits', 'limits'] as LimitVariant[]) {
        const r = await runLimitCost({ variant, round, messages: round === 0 ? Math.min(500, o.messages) : o.messages, concurrency: o.concurrency, redisUrl });
        console.log(`  ${round === 0 ? 'warm-up' : `round ${round}`} ${variant.padEnd(9)} ${Math.round(r.perSecond)} msg/s, redis ${r.redis.perMessage.toFixed(1)} cmds/msg (${r.redis.scriptsPerMessage.toFixed(2)} scripts/msg)${round === 0 ? ' (not counted)' : ''}`);
        if (round > 0) limitCost.push(r);
      }
    }
    return { noisyNeighbour, limitCost };
  } finally {
    await priv?.stop();
  }
}

async function machine(redisUrl: string): Promise<Machine> {
  const cpu = /model name\s*:\s*(.+)/.exec(safeRead('/proc/cpuinfo'))?.[1]?.trim() ?? 'unknown';
  const r = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  let redis = 'unknown';
  try {
    await r.connect();
    redis = /redis_version:(\S+)/.exec(await r.info('server'))?.[1] ?? 'unknown';
  } catch {
    // reported as unknown
  } finally {
    r.disconnect();
  }
  let pg = 'unknown';
  const sql = postgres(TEST_DATABASE_ADMIN_URL, { max: 1, onnotice: () => undefined });
  try {
    const rows = await sql<Array<{ server_version: string }>>`show server_version`;
    pg = rows[0]?.server_version ?? 'unknown';
  } catch {
    // reported as unknown
  } finally {
    await sql.end({ timeout: 1 });
  }
  return { nproc: availableParallelism(), cpu, node: process.version, redis, postgres: pg };
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
