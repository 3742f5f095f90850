import type { RedisClient as Redis } from '../redis/connection.js';
import type { GenerationJobData } from './job-contract.js';
import { GENERATION_QUEUE } from './job-contract.js';
import { viaRedis } from '../redis/errors.js';
import type { RedisKeys } from '../redis/keys.js';
import { defineScripts } from '../redis/scripts.js';

type Scripted = Redis & {
  qfStarted(outstanding: string, jobId: string): Promise<number>;
  qfFinish(job: string, outstanding: string, jobId: string, data: string): Promise<number>;
  qfRelease(outstanding: string, jobId: string): Promise<number>;
};

/**
 * What a job's data keeps once it has ended: who it was for, its ids and
 * what it tried (the failure answer lists the attempts) — not the request
 * body, which may be megabytes and is no longer needed.
 */
export function endedJobData(data: GenerationJobData): Record<string, unknown> {
  const r = data.request;
  return {
    request: { tenantId: r.tenantId, lane: r.lane, stream: r.stream, ...(r.messageId ? { messageId: r.messageId } : {}), ...(r.conversationId ? { conversationId: r.conversationId } : {}) },
    enqueuedAt: data.enqueuedAt,
    ...(data.state ? { state: data.state } : {}),
    ended: true,
  };
}

/** The tenant-side bookkeeping of a job's life: first start, and its end. */
export function createJobLifecycle(redis: Redis, keys: RedisKeys) {
  defineScripts(redis);
  const r = redis as Scripted;
  return {
    /** a worker took the job for the first time: it leaves the tenant's waiting count */
    started: (tenantId: string, jobId: string): Promise<number> => viaRedis('job start', () => r.qfStarted(keys.tenant(tenantId).outstanding, jobId)),
    /** the job ended for good: the request body goes, the tenant's caps are freed */
    finished: (jobId: string, data: GenerationJobData): Promise<number> =>
      viaRedis('job end', () => r.qfFinish(keys.job(GENERATION_QUEUE, jobId), keys.tenant(data.request.tenantId).outstanding, jobId, JSON.stringify(endedJobData(data)))),
    /** forgets an outstanding entry whose job no longer exists (reconciliation) */
    release: (tenantId: string, jobId: string): Promise<number> => viaRedis('job release', () => r.qfRelease(keys.tenant(tenantId).outstanding, jobId)),
  };
}

export type JobLifecycle = ReturnType<typeof createJobLifecycle>;
