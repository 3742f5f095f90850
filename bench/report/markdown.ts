/**
 * The results as markdown: quality per scenario (both policies), per-key
 * utilisation, overhead, and where each target stands.
 */
import type { CompatLatencyRun, CompatWaitingRun } from '../compat/latency.js';
import type { LimitCostRun } from '../fairness/limit-cost.js';
import type { NoisyNeighbourRun } from '../fairness/noisy-neighbour.js';
import type { LeaseLatency } from '../overhead/lease.js';
import type { ThroughputRun } from '../overhead/throughput.js';
import type { LoadRun } from '../harness/load.js';
import type { StreamingResult } from '../streaming/ttft.js';
import type { QualityResult } from '../quality/metrics.js';
import type { RealisticResult } from '../realistic/index.js';
import type { ScalingResult } from '../scaling/index.js';

export interface Machine {
  nproc: number;
  cpu: string;
  node: string;
  redis: string;
  postgres: string;
}

export interface ScenarioResult {
  scenario: string;
  description: string;
  /** limits quotaflow is told equal the stand-in's */
  matchedLimits: boolean;
  quotaflow: QualityResult;
  baseline: QualityResult;
}

export interface OverheadResult {
  throughput: ThroughputRun[];
  /** quotaflow msg/s over naive msg/s, means over the interleaved rounds */
  ratio: number;
  lease: LeaseLatency[];
}

export interface FairnessResult {
  noisyNeighbour: NoisyNeighbourRun[];
  limitCost: LimitCostRun[];
}

export interface BenchResults {
  command: string;
  startedAt: string;
  finishedAt: string;
  machine: Machine;
  quality: ScenarioResult[];
  fairness: FairnessResult | null;
  overhead: OverheadResult | null;
  /** the drop-in endpoint's added latency and api CPU (absent in results written before it existed) */
  compat?: CompatLatencyRun[] | null;
  realistic?: RealisticResult | null;
  scaling?: ScalingResult | null;
  /** one api holding many waiting drop-in calls: memory, file descriptors, CPU (absent when skipped or written before it existed) */
  compatWaiting?: CompatWaitingRun | null;
  /** time to first token added to streamed jobs and the worker's memory (absent in results written before it existed) */
  streaming?: StreamingResult | null;
}

export interface Target {
  name: string;
  goal: string;
  actual: string;
  met: boolean;
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
const ms = (x: number | null): string => (x === null ? '–' : x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : `${Math.round(x)} ms`);
const r2 = (x: number): string => (Math.round(x * 100) / 100).toString();

export function targetsOf(r: BenchResults): Target[] {
  const out: Target[] = [];
  const qf = r.quality.map((q) => q.quotaflow);
  if (qf.length) {
    const matched = r.quality.filter((q) => q.matchedLimits).map((q) => q.quotaflow);
    const worst429 = Math.max(0, ...matched.map((q) => q.per1000_429));
    out.push({ name: 'upstream 429 per 1000 calls (matched limits)', goal: '<= 1', actual: `max ${r2(worst429)} (${matched.map((q) => `${q.scenario} ${r2(q.per1000_429)}`).join(', ')})`, met: worst429 <= 1 });
    const viol = qf.reduce((a, q) => a + q.priority.violations, 0);
    out.push({ name: 'priority violations', goal: '0', actual: `${viol} (${qf.map((q) => `${q.scenario} ${q.priority.violations}`).join(', ')})`, met: viol === 0 });
    const lost = qf.reduce((a, q) => a + q.lost, 0);
    out.push({ name: 'lost messages', goal: '0', actual: String(lost), met: lost === 0 });
  }
  if (r.overhead) {
    out.push({ name: 'throughput vs naive worker', goal: '>= 80%', actual: pct(r.overhead.ratio), met: r.overhead.ratio >= 0.8 });
    const qf = r.overhead.throughput.filter((t) => t.variant === 'quotaflow');
    if (qf.length) {
      const cmds = Math.max(...qf.map((t) => t.redis.perMessage));
      const pg = Math.max(...qf.map((t) => t.pgPerMessage));
      out.push({ name: 'Redis commands per message (inside scripts counted)', goal: '<= 40', actual: r2(cmds), met: cmds <= 40 });
      out.push({ name: 'Postgres statements per message', goal: '<= 0.2', actual: r2(pg), met: pg <= 0.2 });
    }
    const big = r.overhead.lease.find((l) => l.keys === 1000);
    if (big) out.push({ name: 'lease p99 at 1000 keys', goal: '<= 5 ms', actual: `${big.acquireMs.p99} ms`, met: big.acquireMs.p99 <= 5 });
  }
  if (r.realistic) {
    const o = r.realistic.options;
    out.push({ name: `throughput vs naive worker at ${o.latencyMs.min}-${o.latencyMs.max} ms upstream (${o.workers} processes × ${o.concurrency})`, goal: '>= 97%', actual: pct(r.realistic.ratio), met: r.realistic.ratio >= 0.97 });
  }
  for (const t of r.streaming?.ttft ?? []) {
    const { p50, p99 } = t.addedMs;
    out.push({ name: `streaming time to first token added, concurrency ${t.concurrency}`, goal: 'p50 <= 15 ms, p99 <= 50 ms', actual: `p50 ${p50 ?? '?'} ms, p99 ${p99 ?? '?'} ms`, met: p50 !== null && p99 !== null && p50 <= 15 && p99 <= 50 && t.failed === 0 });
  }
  return out;
}

function qualityRow(q: QualityResult): string {
  const served = Object.entries(q.servedByModel)
    .sort((a, b) => b[1] - a[1])
    .map(([m, n]) => `${m.replace('gemini-', '')} ${n}`)
    .join(', ');
  const failed = Object.entries(q.failedByReason)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  return `| ${q.policy} | ${q.messages} | ${q.completed} | ${q.failed}${failed ? ` (${failed})` : ''} | ${q.lost} | ${pct(q.successRate)} | ${served || '–'} | ${q.upstreamCalls} | ${r2(q.per1000_429)} | ${q.priority.violations} (+${q.priority.excused} excused) | ${ms(q.latencyMs.p50)} / ${ms(q.latencyMs.p99)} | ${ms(q.durationMs)}${q.timedOut ? ' (timed out)' : ''} |`;
}

function keyTable(sr: ScenarioResult): string[] {
  const models = Object.keys(sr.quotaflow.timeline);
  const lines = [`| key (project) | ${models.map((m) => `${m.replace('gemini-', '')}: quotaflow ok / 429 / scope util.`).join(' | ')} | ${models.map((m) => `${m.replace('gemini-', '')}: baseline ok / 429 / scope util.`).join(' | ')} |`];
  lines.push(`|---|${models.map(() => '---').join('|')}|${models.map(() => '---').join('|')}|`);
  const cell = (q: QualityResult, keyId: string, m: string): string => {
    const u = q.keys.find((k) => k.keyId === keyId)?.byModel[m];
    return u ? `${u.ok} / ${u.rejected429} / ${pct(u.utilisation)}` : '–';
  };
  const keys = sr.quotaflow.keys.slice(0, 24);
  for (const k of keys) {
    lines.push(`| ${k.keyId} (${k.project}) | ${models.map((m) => cell(sr.quotaflow, k.keyId, m)).join(' | ')} | ${models.map((m) => cell(sr.baseline, k.keyId, m)).join(' | ')} |`);
  }
  if (sr.quotaflow.keys.length > keys.length) lines.push(`| … ${sr.quotaflow.keys.length - keys.length} more keys in results.json | |`);
  return lines;
}

export function toMarkdown(r: BenchResults): string {
  const L: string[] = [];
  L.push(`# quotaflow benchmark results`, '');
  L.push(`- command: \`${r.command}\``);
  L.push(`- machine: ${r.machine.nproc} × ${r.machine.cpu}, Node ${r.machine.node}, Redis ${r.machine.redis}, Postgres ${r.machine.postgres}`);
  L.push(`- run: ${r.startedAt} → ${r.finishedAt}`, '');
  L.push('## Targets', '', '| target | goal | actual | |', '|---|---|---|---|');
  for (const t of targetsOf(r)) L.push(`| ${t.name} | ${t.goal} | ${t.actual} | ${t.met ? 'met' : '**MISSED**'} |`);
  if (r.quality.length) {
    L.push('', '## Quality (quotaflow vs the old algorithm)', '');
    for (const sr of r.quality) {
      L.push(`### ${sr.scenario}`, '', sr.description, '');
      L.push('| policy | messages | completed | failed | lost | success | served by model | upstream calls | 429 / 1000 calls | priority violations | latency p50 / p99 | run |');
      L.push('|---|---|---|---|---|---|---|---|---|---|---|---|');
      L.push(qualityRow(sr.quotaflow), qualityRow(sr.baseline), '');
      for (const q of [sr.quotaflow, sr.baseline]) if (q.priority.examples.length) L.push(`${q.policy} violation examples: ${q.priority.examples.join('; ')}`, '');
      L.push(`![requests per model over time](${sr.scenario}.svg)`, '', '<details><summary>per-key utilisation</summary>', '', ...keyTable(sr), '', '</details>', '');
    }
  }
  if (r.fairness) L.push(...fairnessSection(r.fairness));
  if (r.compat?.length) {
    L.push('## Drop-in endpoint (@google/genai through quotaflow api vs straight to the stand-in)', '', '| concurrency | calls | direct p50 / p99 | Node client p50 / p99 | drop-in p50 / p99 | added p50 / p99 | api CPU per call | failed |', '|---|---|---|---|---|---|---|---|');
    for (const c of r.compat) {
      L.push(`| ${c.concurrency} | ${c.calls} | ${c.directMs.p50} / ${c.directMs.p99} ms | ${c.nodeClientMs.p50} / ${c.nodeClientMs.p99} ms | ${c.dropInMs.p50} / ${c.dropInMs.p99} ms | ${c.addedMs.p50} / ${c.addedMs.p99} ms | ${c.apiCpuMsPerCall ?? '?'} ms | ${c.failed} |`);
    }
    L.push('');
  }
  if (r.compatWaiting) {
    const w = r.compatWaiting;
    L.push(
      `## Waiting drop-in calls (${w.waiting} concurrent @google/genai calls held by one quotaflow api; stand-in ${w.standInLatencyMs} ms, ${w.workers} workers × ${w.workerConcurrency})`,
      '',
      '| calls | requests/s | failed | client p50 / p99 | api RSS idle → max | api open fds idle → max | api CPU (cores) | api CPU per call | load average before → after |',
      '|---|---|---|---|---|---|---|---|---|',
      `| ${w.calls} | ${w.requestsPerSecond} | ${w.failed} | ${w.clientMs.p50} / ${w.clientMs.p99} ms | ${w.apiRssMiB.idle ?? '?'} → ${w.apiRssMiB.max ?? '?'} MiB | ${w.apiOpenFds.idle ?? '?'} → ${w.apiOpenFds.max ?? '?'} | ${w.apiCpu.cores ?? '?'} | ${w.apiCpu.msPerCall ?? '?'} ms | ${w.loadAverage.before.join(' ')} → ${w.loadAverage.after.join(' ')} |`,
      '',
    );
    L.push(`CPU elsewhere over the run: workers ${w.otherCpuCores.workers ?? '?'} cores, bench process (SDK callers and the in-process stand-in) ${w.otherCpuCores.bench} cores; \`ulimit -n\` ${w.openFilesLimit ?? '?'}.`, '');
    if (w.firstError) L.push(`First failure: ${w.firstError}`, '');
  }
  if (r.streaming) L.push(...streamingSection(r.streaming));
  if (r.overhead) {
    const o = r.overhead;
    L.push('## Overhead', '', '| run | variant | messages | concurrency | elapsed | msg/s | failed | Redis cmds/msg (scripts/msg) | Postgres stmts/msg |', '|---|---|---|---|---|---|---|---|---|');
    for (const t of o.throughput) {
      L.push(`| ${t.round} | ${t.variant} | ${t.messages} | ${t.concurrency} | ${Math.round(t.elapsedMs)} ms | ${Math.round(t.perSecond)} | ${t.failed} | ${r2(t.redis.perMessage)} (${r2(t.redis.scriptsPerMessage)}) | ${r2(t.pgPerMessage)} |`);
    }
    L.push('', `Throughput ratio quotaflow / naive: **${pct(o.ratio)}**`, '');
    const last = (v: string): ThroughputRun | undefined => [...o.throughput].reverse().find((t) => t.variant === v);
    for (const v of ['quotaflow', 'naive']) {
      const t = last(v);
      if (t) L.push(`Redis commands per message, ${v} (last run): ${t.redis.top.map(([c, n]) => `${c} ${n}`).join(', ')}`, '');
    }
    L.push('| keys | acquire p50 | acquire p99 | acquire mean | acquire max | planLease p50 / p99 | iterations |', '|---|---|---|---|---|---|---|');
    for (const l of o.lease) L.push(`| ${l.keys} | ${l.acquireMs.p50} ms | ${l.acquireMs.p99} ms | ${l.acquireMs.mean} ms | ${l.acquireMs.max} ms | ${l.planMs.p50} / ${l.planMs.p99} ms | ${l.iterations} |`);
  }
  if (r.realistic) {
    const x = r.realistic;
    const o = x.options;
    L.push('', '## Realistic load', '');
    L.push(`${o.messages} messages from ${o.tenants} tenants, upstream latency ${o.latencyMs.min}-${o.latencyMs.max} ms, ${o.workers} worker processes × concurrency ${o.concurrency}; took ${Math.round(x.tookMs / 1000)} s, load average ${x.loadAverage.before.join(' ')} before, ${x.loadAverage.after.join(' ')} after.`, '');
    L.push(...loadTable([...x.burst, ...x.paced]));
    L.push('', `Throughput ratio quotaflow / naive (burst): **${pct(x.ratio)}**`, '');
  }
  if (r.scaling) {
    const x = r.scaling;
    L.push('', '## Scaling out (zero upstream latency)', '');
    L.push(`${x.options.messages} messages per run from ${x.options.tenants} tenants, concurrency ${x.options.concurrency} per process; took ${Math.round(x.tookMs / 1000)} s, load average ${x.loadAverage.before.join(' ')} before, ${x.loadAverage.after.join(' ')} after.`, '');
    L.push(...loadTable(x.runs));
  }
  return `${L.join('\n')}\n`;
}

function loadTable(runs: LoadRun[]): string[] {
  const L = [
    '| variant | arrival | processes × concurrency | messages | msg/s | failed | queue wait p50 / p99 | RSS peak per process | worker CPU ms/msg | Redis cmds/msg | Redis bytes/msg in / out | Redis CPU ms/msg (% of a core) | enqueue cmds/msg, bytes in / out | Postgres stmts/msg | load avg |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of runs) {
    const arrival = r.arrival === 'burst' ? 'burst' : `${Math.round(r.arrival.rate)}/s`;
    const e = r.enqueue ? `${r2(r.enqueue.commandsPerMessage)}, ${Math.round(r.enqueue.inBytesPerMessage)} / ${Math.round(r.enqueue.outBytesPerMessage)}` : '(in the window)';
    L.push(
      `| ${r.variant} | ${arrival} | ${r.workers} × ${r.concurrency} | ${r.messages} | ${Math.round(r.perSecond)} | ${r.failed} | ${ms(r.queueWaitMs.p50)} / ${ms(r.queueWaitMs.p99)} | ${r.rssMb.map((m) => Math.round(m.peak)).join(', ')} MB | ${r2(r.workerCpuMsPerMessage)} | ${r2(r.redis.commandsPerMessage)} | ${Math.round(r.redis.inBytesPerMessage)} / ${Math.round(r.redis.outBytesPerMessage)} | ${r.redis.cpuMsPerMessage.toFixed(3)} (${pct(r.redis.cpuShare)}) | ${e} | ${r2(r.pgPerMessage)} | ${r.loadAverage[0]} |`,
    );
  }
  return L;
}

function streamingSection(s: StreamingResult): string[] {
  const mb = (kb: number | null): string => (kb === null ? '?' : `${(kb / 1024).toFixed(1)} MB`);
  const L = ['', '## Streaming: time to first token added', ''];
  L.push(`Per stream: the reader's first \`chunk\` event minus the stand-in's write of its first chunk, one clock (performance.now() in the bench process). Stand-in: first chunk at ${s.firstChunkMs} ms, last at ${s.totalMs} ms; one worker process at concurrency ${s.workerConcurrency}. Load average (1 min) ${s.loadavg.start} at start, ${s.loadavg.end} at end.`, '');
  L.push('| concurrency | streams | added p50 | added p99 | added max | failed |', '|---|---|---|---|---|---|');
  for (const t of s.ttft) L.push(`| ${t.concurrency} | ${t.streams} | ${t.addedMs.p50} ms | ${t.addedMs.p99} ms | ${t.addedMs.max} ms | ${t.failed} |`);
  if (s.memory) {
    const m = s.memory;
    L.push('', '| worker memory | RSS |', '|---|---|', `| idle | ${mb(m.idleKb)} |`, `| ${m.inFlightAtSample} of ${m.streams} streams in flight | ${mb(m.inFlightKb)} |`, `| peak (VmHWM) | ${mb(m.peakKb)} |`);
    if (m.failed) L.push('', `${m.failed} of the ${m.streams} streams failed.`);
  }
  L.push('');
  return L;
}

function fairnessSection(f: FairnessResult): string[] {
  const L = ['', '## Tenants: the noisy neighbour', ''];
  const first = f.noisyNeighbour[0];
  if (first) L.push(`${first.noisyJobs} jobs of tenant "noisy" enqueued at once, then ${first.quietJobs} of tenant "quiet", one every 100 ms; stand-in ${first.latencyMs} ms per answer, one worker at concurrency ${first.concurrency}.`, '');
  L.push('| order | quiet wait p50 | quiet wait p99 | quiet wait max | quiet enqueue to answer p50 / p99 | noisy jobs started meanwhile |', '|---|---|---|---|---|---|');
  for (const n of f.noisyNeighbour) L.push(`| ${n.variant} | ${ms(n.quietWaitMs.p50)} | ${ms(n.quietWaitMs.p99)} | ${ms(n.quietWaitMs.max)} | ${ms(n.quietLatencyMs.p50)} / ${ms(n.quietLatencyMs.p99)} | ${n.noisyStartedMeanwhile} |`);
  L.push('', '## Tenants: what limits cost per message', '', '| round | tenant | messages | msg/s | Redis cmds/msg (scripts/msg) |', '|---|---|---|---|---|');
  for (const c of f.limitCost) L.push(`| ${c.round} | ${c.variant} | ${c.messages} | ${Math.round(c.perSecond)} | ${r2(c.redis.perMessage)} (${r2(c.redis.scriptsPerMessage)}) |`);
  for (const v of ['no limits', 'limits']) {
    const last = [...f.limitCost].reverse().find((c) => c.variant === v);
    if (last) L.push('', `Redis commands per message, ${v} (last run): ${last.redis.top.map(([c, n]) => `${c} ${n}`).join(', ')}`);
  }
  L.push('');
  return L;
}
