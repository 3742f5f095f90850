import type { RedisClient as Redis } from '../redis/connection.js';
import { viaRedis } from '../redis/errors.js';
import { GENERATION_QUEUE, type GenerationResult } from './job-contract.js';
import { TolerantQueue, attemptsOf } from './job-read.js';

export const QUEUE_STATES = ['waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed'] as const;

/** Delayed jobs read to tell why they wait; a deep queue is sampled, not read whole. */
const DELAYED_SAMPLE = 1_000;

export interface QueueReport {
  counts: Record<(typeof QUEUE_STATES)[number], number>;
  /**
   * Why delayed jobs wait, from what each noted the last time it was delayed:
   * window (limits full), cool (429 cooldown), day (excluded for the day),
   * breaker, model, global, interactive (batch yields), tenant (the tenant's
   * own limits); `retry` for a job delayed after a failure, `dependency` for
   * one waiting out a Redis or Postgres failure.
   */
  delayedBy: Record<string, number>;
  /** how many delayed jobs were read for delayedBy */
  sampled: number;
}

export async function queueReport(redis: Redis, prefix: string): Promise<QueueReport> {
  // jobs whose data is not what a worker writes (or not JSON at all) are counted, not trusted
  const queue = new TolerantQueue<unknown, GenerationResult>(GENERATION_QUEUE, { connection: redis, prefix });
  try {
    return await viaRedis('queue report', async () => {
      const counts = await queue.getJobCounts(...QUEUE_STATES);
      const delayed = await queue.getDelayed(0, DELAYED_SAMPLE - 1);
      const delayedBy: Record<string, number> = {};
      for (const job of delayed) {
        const state: unknown = typeof job.data === 'object' && job.data !== null ? (job.data as { state?: unknown }).state : undefined;
        const noted = typeof state === 'object' && state !== null ? (state as { waitReason?: unknown }).waitReason : undefined;
        const why = typeof noted === 'string' ? noted : attemptsOf(job.data).length ? 'retry' : 'dependency';
        delayedBy[why] = (delayedBy[why] ?? 0) + 1;
      }
      return { counts: Object.fromEntries(QUEUE_STATES.map((q) => [q, counts[q] ?? 0])) as QueueReport['counts'], delayedBy, sampled: delayed.length };
    });
  } finally {
    await queue.close();
  }
}
