/**
 * The naive worker (bench/overhead/throughput.ts) as a process of its own,
 * for runs that compare worker processes with `quotaflow worker` processes.
 * Configured by environment: REDIS_URL, QUOTAFLOW_PREFIX, GEMINI_BASE_URL,
 * NAIVE_CONCURRENCY, NAIVE_KEY, NAIVE_MODEL. Prints "naive worker started"
 * when it takes jobs; closes on SIGTERM.
 */
import { startNaiveWorker } from '../overhead/throughput.js';

const need = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is required`);
  return v;
};

const w = await startNaiveWorker({
  redisUrl: need('REDIS_URL'),
  prefix: need('QUOTAFLOW_PREFIX'),
  baseUrl: need('GEMINI_BASE_URL'),
  concurrency: Number(need('NAIVE_CONCURRENCY')),
  keyId: need('NAIVE_KEY'),
  model: need('NAIVE_MODEL'),
});
console.log('naive worker started');
process.once('SIGTERM', () => {
  void w.close().finally(() => process.exit(0));
});
