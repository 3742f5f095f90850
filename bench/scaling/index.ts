/**
 * Scaling out: messages/s for 1, 2, 4 `quotaflow worker` processes at zero
 * upstream latency (the workers' own cost is all there is), with what each
 * message costs Redis (commands, bytes in and out, CPU) and Postgres
 * (statements), and the naive worker at the same process counts for the
 * machine's ceiling. Each run is a burst: enqueue everything, then time from
 * resume to the last completion.
 */
import { readLoadAverage, runLoad, type LoadRun, type LoadVariant } from '../harness/load.js';
import { describe } from '../realistic/index.js';

export interface ScalingOptions {
  messages: number;
  workers: number[];
  concurrency: number;
  tenants: number;
  naive: boolean;
  redisUrl: string;
  pgPort: number;
}

export interface ScalingResult {
  options: Omit<ScalingOptions, 'redisUrl' | 'pgPort'>;
  runs: LoadRun[];
  tookMs: number;
  loadAverage: { before: [number, number, number]; after: [number, number, number] };
}

export async function runScaling(o: ScalingOptions): Promise<ScalingResult> {
  const t0 = Date.now();
  const before = readLoadAverage();
  console.log(`\n▶ scaling: ${o.messages} messages per run, ${o.workers.join('/')} worker processes × ${o.concurrency}, zero upstream latency, ${o.tenants} tenants (load average ${before.join(' ')})`);
  const runs: LoadRun[] = [];
  for (const workers of o.workers) {
    for (const variant of (o.naive ? ['quotaflow', 'naive'] : ['quotaflow']) as LoadVariant[]) {
      const r = await runLoad({ variant, workers, concurrency: o.concurrency, messages: o.messages, tenants: o.tenants, latencyMs: { min: 0, max: 0 }, arrival: 'burst', redisUrl: o.redisUrl, pgPort: o.pgPort });
      console.log(`  ${describe(r)}`);
      runs.push(r);
    }
  }
  const { redisUrl: _r, pgPort: _p, ...options } = o;
  return { options, runs, tookMs: Date.now() - t0, loadAverage: { before, after: readLoadAverage() } };
}
