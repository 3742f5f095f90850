import type { Queue } from 'bullmq';
import type { RedisClient as Redis } from '../redis/connection.js';
import { DEFAULT_REQUEST_CAPS, parseGenerationRequest, requestBytes, type GenerationRequestInput, type RequestCaps } from '../../core/request.js';
import { DependencyError, TenantLimitError, UnknownTenantError } from '../../errors.js';
import { viaRedis } from '../redis/errors.js';
import type { RedisKeys } from '../redis/keys.js';
import { defineScripts } from '../redis/scripts.js';
import { GENERATION_JOB, type GenerationJobData, type GenerationResult } from './job-contract.js';
import { messageJobId, newJobId } from './job-ids.js';

/** Producer-side caps of a tenant, used when the fleet did not publish the tenant's own. */
export interface ProducerCaps {
  /** jobs enqueued and not yet ended */
  maxQueuedJobs: number;
  /** bytes of requests enqueued and not yet ended */
  maxQueuedBytes: number;
}

export const DEFAULT_PRODUCER_CAPS: ProducerCaps = Object.freeze({ maxQueuedJobs: 10_000, maxQueuedBytes: 64 * 1024 * 1024 });

/** How long a producer over its caps is told to wait before trying again. */
export const OVER_LIMIT_RETRY_MS = 1_000;

/** BullMQ options of every generation job: results kept for a day, failures for a week, both bounded. */
export const JOB_RETENTION = Object.freeze({
  removeOnComplete: { age: 24 * 3600, count: 100_000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 100_000 },
});

type Scripted = Redis & {
  qfEnqueue(directory: string, outstanding: string, ...args: Array<string | number>): Promise<[number, string | number, number?]>;
  qfRelease(outstanding: string, jobId: string): Promise<number>;
};

export interface Producer {
  /**
   * Validates, admits against the tenant's caps and enqueues. With a message
   * id, the same message yields the same job. `acceptBy` (epoch ms): when
   * Redis only answers after it, nothing is enqueued (the caller was answered).
   */
  enqueue(input: GenerationRequestInput, opts?: { acceptBy?: number }): Promise<{ jobId: string }>;
}

/**
 * The producer boundary, shared by the Node client and the HTTP API: a
 * request is validated (sizes in bytes), admitted against its tenant's caps
 * on outstanding jobs and queued bytes and given its fair-share position (one
 * script, see commands/enqueue-2.lua), then added to the queue.
 */
export function createProducer(opts: {
  redis: Redis;
  keys: RedisKeys;
  queue: Queue<GenerationJobData, GenerationResult>;
  caps?: Partial<ProducerCaps>;
  requestCaps?: Partial<RequestCaps>;
  clock?: () => number;
  /** false: every job gets priority 1 (first in, first out), to measure what fair share is worth; default true */
  fairShare?: boolean;
}): Producer {
  defineScripts(opts.redis);
  const r = opts.redis as Scripted;
  const caps = { ...DEFAULT_PRODUCER_CAPS, ...opts.caps };
  const requestCaps = { ...DEFAULT_REQUEST_CAPS, ...opts.requestCaps };
  const clock = opts.clock ?? Date.now;
  const fairShare = opts.fairShare ?? true;

  return {
    async enqueue(input, o = {}) {
      const request = parseGenerationRequest(input, requestCaps);
      const bytes = requestBytes(request);
      const jobId = request.messageId ? messageJobId(request.tenantId, request.messageId) : newJobId(request.tenantId);
      const outstanding = opts.keys.tenant(request.tenantId).outstanding;
      const [status, reason, limit] = await viaRedis('enqueue admission', () =>
        r.qfEnqueue(opts.keys.tenantDirectory, outstanding, request.tenantId, jobId, bytes, caps.maxQueuedJobs, caps.maxQueuedBytes, o.acceptBy ?? 0, request.lane, (request.priority ?? 1) - 1),
      );
      if (status === 0) throw refusal(request.tenantId, String(reason), Number(limit ?? 0), bytes);
      const data: GenerationJobData = { request, enqueuedAt: clock() };
      try {
        // a duplicate (status 2) is added again on purpose: BullMQ keeps the existing job, and a first add that failed is repaired
        await viaRedis('enqueue', () => opts.queue.add(GENERATION_JOB, data, { jobId, priority: status === 1 && fairShare ? Number(reason) : 1, attempts: 3, backoff: { type: 'fixed', delay: 1_000 }, ...JOB_RETENTION }));
      } catch (err) {
        if (status === 1) await r.qfRelease(outstanding, jobId).catch(() => undefined);
        throw err;
      }
      // the same message after its job ended: BullMQ kept the ended job and added nothing, so no
      // worker will ever release the slot admission just took (release is a no-op if the job's end already did)
      if (status === 1 && request.messageId && (await viaRedis('enqueue', () => r.hexists(opts.keys.job(opts.queue.name, jobId), 'finishedOn'))) === 1) {
        await viaRedis('enqueue', () => r.qfRelease(outstanding, jobId));
      }
      return { jobId };
    },
  };
}

function refusal(tenantId: string, reason: string, limit: number, bytes: number): Error {
  switch (reason) {
    case 'unknown_tenant':
      return new UnknownTenantError(tenantId);
    case 'jobs':
      return new TenantLimitError(`tenant "${tenantId}" has ${limit} jobs queued or running, its limit; try again when some have finished`, OVER_LIMIT_RETRY_MS, 'jobs');
    case 'bytes':
      return new TenantLimitError(`tenant "${tenantId}" has reached its limit of ${limit} bytes of queued requests (this one is ${bytes} bytes); try again when some have finished`, OVER_LIMIT_RETRY_MS, 'bytes');
    default:
      return new DependencyError('Redis answered too late: nothing was enqueued (try again)');
  }
}
