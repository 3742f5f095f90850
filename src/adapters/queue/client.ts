import { Queue, QueueEvents, type Job } from 'bullmq';
import type { RedisClient as Redis } from '../redis/connection.js';
import type { GenerationRequestInput, RequestCaps } from '../../core/request.js';
import type { FailureReason } from '../../core/types.js';
import { NotFoundError, QuotaflowError } from '../../errors.js';
import { parseConfig, type RedisSettings } from '../../config.js';
import { connectRedis, hashTagPrefix } from '../redis/connection.js';
import { viaRedis } from '../redis/errors.js';
import { redisKeys } from '../redis/keys.js';
import type { StreamEvent } from '../../core/job.js';
import { createEventReader, type EventReader } from '../redis/event-reader.js';
import { createStreamFollower } from './client-stream.js';
import { createJobLifecycle } from './job-lifecycle.js';
import { attemptsOf, isStreamedData, readJob, tenantOf, type StoredJob } from './job-read.js';
import { createProducer, type ProducerCaps } from './producer.js';
import {
  GENERATION_QUEUE,
  decodeFailure,
  type AttemptRecord,
  type GenerationJobData,
  type GenerationResult,
} from './job-contract.js';

export interface ClientOptions {
  redisUrl?: string;
  /** Redis Cluster: `host:port` of some nodes (the prefix is then hash-tagged, as the workers do) */
  clusterNodes?: string[];
  /** full connection settings (cluster, Sentinel, TLS): what `loadConfig().redis` holds */
  redis?: RedisSettings;
  /** queue / key prefix shared with the workers (QUOTAFLOW_PREFIX) */
  prefix?: string;
  /** an ioredis connection to use instead of redisUrl (not closed by close()) */
  connection?: Redis;
  /** caps on a tenant's queued jobs and bytes, used when the fleet did not publish its own */
  caps?: Partial<ProducerCaps>;
  /** size caps of one request (bytes, inline data, parts, contents) */
  requestCaps?: Partial<RequestCaps>;
}

/**
 * Thrown by generate() when the job ended failed; `reason` is machine-readable.
 * From a stream, `eventId` is the id of the `error` event (resuming after it ends at once).
 */
export class GenerationFailedError extends QuotaflowError {
  constructor(
    readonly jobId: string,
    readonly reason: FailureReason,
    message: string,
    readonly attempts: AttemptRecord[],
    readonly eventId?: string,
  ) {
    super(reason, `generation ${jobId} failed (${reason}): ${message}`);
  }
}

export class GenerationTimeoutError extends QuotaflowError {
  constructor(readonly jobId: string, timeoutMs: number) {
    super('wait_timeout', `generation ${jobId} did not finish within ${timeoutMs} ms (it is still queued or running)`);
  }
}

export type JobStatus =
  | { jobId: string; state: 'completed'; result: GenerationResult }
  | { jobId: string; state: 'failed'; reason: FailureReason; message: string; attempts: AttemptRecord[] }
  | { jobId: string; state: 'waiting' | 'active' | 'delayed' | 'unknown'; attempts: AttemptRecord[] };

export interface QuotaflowClient {
  /**
   * Validates and enqueues; with messageId set, enqueuing the same message
   * twice yields one job. Throws ValidationError (UnknownTenantError for a
   * tenant the fleet does not have), TenantLimitError (over the tenant's
   * queued jobs or bytes: retry after `retryAfterMs`), DependencyError.
   */
  enqueue(request: GenerationRequestInput, options?: { acceptBy?: number }): Promise<{ jobId: string }>;
  /** Enqueues and waits for the answer; throws GenerationFailedError with the reason. */
  generate(request: GenerationRequestInput, options?: { timeoutMs?: number; signal?: AbortSignal }): Promise<GenerationResult>;
  /** Waits for an enqueued job to finish. */
  wait(jobId: string, options?: { timeoutMs?: number; signal?: AbortSignal }): Promise<GenerationResult>;
  /**
   * Enqueues with `stream: true` and follows the answer as it is written:
   * `chunk` events (text delta, parts, usage on the last), `reset` when an
   * attempt failed after chunks went out (drop the partial answer), then
   * `done` with the result; a failed job throws GenerationFailedError.
   */
  stream(request: GenerationRequestInput, options?: { signal?: AbortSignal }): AsyncGenerator<StreamEvent>;
  /** Follows an enqueued job's events (from the start, or after an event id). */
  streamJob(jobId: string, options?: { after?: string; signal?: AbortSignal }): AsyncGenerator<StreamEvent>;
  status(jobId: string): Promise<JobStatus | null>;
  /** Removes the job if no worker has taken it yet; true when it was removed. */
  cancelIfWaiting(jobId: string): Promise<boolean>;
  close(): Promise<void>;
}

export { messageJobId } from './job-ids.js';

/** A promise that rejects when the signal aborts (the caller went away). */
function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** The connection settings a client was given, in the form the workers use. */
function settingsOf(options: ClientOptions): RedisSettings {
  if (options.redis) return options.redis;
  // one mode at a time: cluster nodes, else the URL (REDIS_URL alongside REDIS_CLUSTER_NODES is a contradiction)
  if (options.clusterNodes?.length) return parseConfig({ REDIS_CLUSTER_NODES: options.clusterNodes.join(',') }).redis;
  return parseConfig({ REDIS_URL: options.redisUrl ?? 'redis://127.0.0.1:6379' }).redis;
}

export function createClient(options: ClientOptions = {}): QuotaflowClient {
  const settings = settingsOf(options);
  const prefix = hashTagPrefix(options.prefix ?? 'quotaflow', settings.mode);
  const connection = options.connection ?? connectRedis(settings);
  if (!options.connection) connection.on('error', () => undefined);
  const queue = new Queue<GenerationJobData, GenerationResult>(GENERATION_QUEUE, { connection, prefix });
  queue.setMaxListeners(0);
  queue.on('error', () => undefined);
  const keys = redisKeys(prefix);
  const lifecycle = createJobLifecycle(connection, keys);
  const producer = createProducer({ redis: connection, keys, queue, ...(options.caps ? { caps: options.caps } : {}), ...(options.requestCaps ? { requestCaps: options.requestCaps } : {}) });
  let events: Promise<QueueEvents> | undefined;
  // the reader's own connection: BullMQ never closes a connection it was handed, so close() must
  let eventsConnection: Redis | undefined;
  const queueEvents = (): Promise<QueueEvents> => {
    // one reader for all waiters, starting a little in the past: a job that
    // finishes between a waiter's state check and the reader's first XREAD
    // is still seen (starting at '$' would miss it)
    events ??= (async () => {
      // QueueEvents blocks on XREAD: its connection waits out outages
      eventsConnection = connectRedis(settings, { profile: { kind: 'blocking' } });
      eventsConnection.on('error', () => undefined);
      const qe = new QueueEvents(GENERATION_QUEUE, { connection: eventsConnection, prefix, lastEventId: `${Date.now() - 10_000}-0` });
      qe.setMaxListeners(0);
      await qe.waitUntilReady();
      return qe;
    })();
    return events;
  };

  const toFailure = (job: StoredJob): GenerationFailedError => {
    const f = decodeFailure(job.failedReason);
    return new GenerationFailedError(job.id ?? '', f.reason, f.message, attemptsOf(job.data));
  };

  const wait = async (jobId: string, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<GenerationResult> => {
    const timeoutMs = opts.timeoutMs ?? 300_000;
    const qe = await queueEvents();
    const job = await readJob(queue, jobId);
    if (!job) throw new NotFoundError(`no generation ${jobId}`);
    try {
      return await abortable(job.waitUntilFinished(qe, timeoutMs), opts.signal);
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      const fresh = await readJob(queue, jobId);
      if (fresh && (await fresh.isFailed())) throw toFailure(fresh);
      if (fresh && (await fresh.isCompleted())) return fresh.returnvalue;
      if (err instanceof Error && /timed out/i.test(err.message)) throw new GenerationTimeoutError(jobId, timeoutMs);
      throw err;
    }
  };

  const status = async (jobId: string): Promise<JobStatus | null> => {
    // state first, then the job: a job read after its state already holds what that state needs
    const state = await viaRedis('job state read', () => queue.getJobState(jobId));
    if (state === 'unknown') return null;
    const job = await readJob(queue, jobId);
    if (!job) return null;
    const attempts = attemptsOf(job.data);
    if (state === 'completed') return { jobId, state, result: job.returnvalue };
    if (state === 'failed') return { jobId, state, ...decodeFailure(job.failedReason), attempts };
    const s = state === 'waiting' || state === 'active' || state === 'delayed' ? state : state === 'prioritized' || state === 'waiting-children' ? 'waiting' : 'unknown';
    return { jobId, state: s, attempts };
  };
  let reader: EventReader | undefined;
  const streamJob = createStreamFollower({
    get reader() {
      reader ??= createEventReader({ redis: connection, subscriber: () => connectRedis(settings, { profile: { kind: 'blocking' } }), keys });
      return reader;
    },
    status,
    async isStreamed(jobId) {
      const job = await readJob(queue, jobId);
      return job ? isStreamedData(job.data) : null;
    },
    wait,
    failure: (jobId, reason, message, attempts, eventId) => new GenerationFailedError(jobId, reason, message, attempts, eventId),
  });

  return {
    enqueue: (request, opts = {}) => producer.enqueue(request, opts),
    async generate(request, opts = {}) {
      const { jobId } = await producer.enqueue(request);
      return wait(jobId, opts);
    },
    wait,
    async *stream(request, opts = {}) {
      const { jobId } = await producer.enqueue({ ...request, stream: true });
      yield* streamJob(jobId, opts);
    },
    streamJob,
    status,
    async cancelIfWaiting(jobId) {
      const job = await readJob(queue, jobId);
      if (!job) return false;
      const state = await job.getState();
      if (state !== 'waiting' && state !== 'prioritized' && state !== 'delayed') return false;
      // a worker may take it meanwhile: BullMQ then refuses to remove a locked job
      const removed = await job.remove().then(() => true, () => false);
      const tenantId = tenantOf(job.data);
      if (removed && tenantId !== undefined) await lifecycle.release(tenantId, jobId).catch(() => undefined);
      return removed;
    },
    async close() {
      await reader?.close();
      const qe = await events?.catch(() => undefined);
      await qe?.close();
      await eventsConnection?.quit().catch(() => eventsConnection?.disconnect());
      await queue.close();
      if (!options.connection) await connection.quit().catch(() => undefined);
    },
  };
}
