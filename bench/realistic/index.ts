/**
 * Realistic load: upstream latency drawn from 0.5-3 s, 50 tenants (each with
 * its own key, central keys behind), 4 `quotaflow worker` processes at
 * concurrency 250 each, 20,000 messages enqueued at once; the same against
 * the naive worker (4 processes, same concurrency). Then both again with
 * messages arriving at half the rate quotaflow drained the burst at, to show
 * the queue wait when the workers keep up. Sizes are flags (bench/run.ts).
 */
import { readLoadAverage, runLoad, type LoadRun, type LoadVariant } from '../harness/load.js';

export interface RealisticOptions {
  messages: number;
  workers: number;
  concurrency: number;
  tenants: number;
  latencyMs: { min: number; max: number };
  /** the paced runs' length in seconds (0: no paced runs) */
  pacedSeconds: number;
  redisUrl: string;
  pgPort: number;
}

export interface RealisticResult {
  options: Omit<RealisticOptions, 'redisUrl' | 'pgPort'>;
  burst: LoadRun[];
  /** quotaflow msg/s over naive msg/s, burst */
  ratio: number;
  paced: LoadRun[];
  tookMs: number;
  loadAverage: { before: [number, number, number]; after: [number, number, number] };
}

export async function runRealistic(o: RealisticOptions): Promise<RealisticResult> {
  const t0 = Date.now();
  const before = readLoadAverage();
  const base = { workers: o.workers, concurrency: o.concurrency, tenants: o.tenants, latencyMs: o.latencyMs, redisUrl: o.redisUrl, pgPort: o.pgPort };
  console.log(`\n▶ realistic: ${o.messages} messages, ${o.tenants} tenants, ${o.workers} worker processes × ${o.concurrency}, upstream ${o.latencyMs.min}-${o.latencyMs.max} ms (load average ${before.join(' ')})`);
  const burst: LoadRun[] = [];
  for (const variant of ['quotaflow', 'naive'] as LoadVariant[]) {
    const r = await runLoad({ ...base, variant, messages: o.messages, arrival: 'burst' });
    console.log(`  burst ${describe(r)}`);
    burst.push(r);
  }
  const rate = (burst[0]?.perSecond ?? 0) / 2;
  const paced: LoadRun[] = [];
  if (o.pacedSeconds > 0 && rate > 0) {
    const messages = Math.max(1, Math.min(o.messages, Math.round(rate * o.pacedSeconds)));
    for (const variant of ['quotaflow', 'naive'] as LoadVariant[]) {
      const r = await runLoad({ ...base, variant, messages, arrival: { rate } });
      console.log(`  paced ${Math.round(rate)} msg/s ${describe(r)}`);
      paced.push(r);
    }
  }
  const ratio = (burst[0]?.perSecond ?? 0) / (burst[1]?.perSecond ?? 1);
  console.log(`  throughput ratio quotaflow/naive at ${o.latencyMs.min}-${o.latencyMs.max} ms: ${(ratio * 100).toFixed(1)}%; took ${Math.round((Date.now() - t0) / 1000)} s`);
  const { redisUrl: _r, pgPort: _p, ...options } = o;
  return { options, burst, ratio, paced, tookMs: Date.now() - t0, loadAverage: { before, after: readLoadAverage() } };
}

export function describe(r: LoadRun): string {
  const rss = r.rssMb.map((m) => Math.round(m.peak)).join('/');
  return (
    `${r.variant.padEnd(9)} ${r.workers}×${r.concurrency}: ${Math.round(r.perSecond)} msg/s (${(r.elapsedMs / 1000).toFixed(1)} s, ${r.failed} failed), ` +
    `queue wait p50/p99 ${r.queueWaitMs.p50}/${r.queueWaitMs.p99} ms, after the call p50/p99 ${r.afterCallMs.p50}/${r.afterCallMs.p99} ms, RSS peak ${rss} MB, worker CPU ${r.workerCpuMsPerMessage.toFixed(2)} ms/msg, ` +
    `redis ${r.redis.commandsPerMessage.toFixed(1)} cmds/msg, ${Math.round(r.redis.inBytesPerMessage)}+${Math.round(r.redis.outBytesPerMessage)} B/msg in+out, ` +
    `${r.redis.cpuMsPerMessage.toFixed(3)} ms CPU/msg (${(r.redis.cpuShare * 100).toFixed(1)}% of a core), postgres ${r.pgPerMessage.toFixed(2)} stmts/msg, load ${r.loadAverage[0]}`
  );
}
