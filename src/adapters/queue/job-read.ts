import { Job, Queue, type JobJson, type JobProgress } from 'bullmq';
import type { AttemptRecord } from '../../core/job.js';
import { viaRedis } from '../redis/errors.js';
import type { GenerationResult } from './job-contract.js';

/**
 * Reading jobs whose stored data may be anything. A job's data can be
 * written by another tool, edited in Bull Board, or cut short: BullMQ parses
 * it with JSON.parse when it reads the job and throws on text that is not
 * JSON — an error that quotes the text, and, on a worker, leaves the job
 * active to be taken again and again. Here such data reads as `null`; what
 * the data holds is then checked field by field, never trusted.
 */
export class TolerantJob<T = unknown, R = unknown, N extends string = string, P extends JobProgress = JobProgress> extends Job<T, R, N, P> {
  static override fromJSON<T = unknown, R = unknown, N extends string = string>(queue: ConstructorParameters<typeof Job>[0], json: JobJson, jobId?: string): Job<T, R, N> {
    try {
      return super.fromJSON<T, R, N>(queue, json, jobId);
    } catch (err) {
      if (!(err instanceof SyntaxError)) throw err;
      return super.fromJSON<T, R, N>(queue, { ...json, data: 'null' }, jobId);
    }
  }
}

/** A queue whose reads (getJob, getJobs, getDelayed ...) survive data that is not JSON. */
export class TolerantQueue<T = unknown, R = unknown> extends Queue<T, R> {
  protected override get Job(): typeof Job {
    return TolerantJob;
  }
}

/** A stored job whose data is not to be trusted: what its fields hold is read through the helpers below. */
export type StoredJob = Job<unknown, GenerationResult>;

/** Reads a job (undefined when there is none); data that is not JSON reads as null. Redis failures are a DependencyError. */
export function readJob(queue: Queue, jobId: string): Promise<StoredJob | undefined> {
  return viaRedis('job read', () => TolerantJob.fromId<unknown, GenerationResult>(queue, jobId));
}

const record = (v: unknown): Record<string, unknown> | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);

/** The attempts a job's data records, or none when its data is not what a worker writes. */
export function attemptsOf(data: unknown): AttemptRecord[] {
  const attempts = record(record(data)?.state)?.attempts;
  return Array.isArray(attempts) ? attempts.filter((a): a is AttemptRecord => record(a) !== undefined) : [];
}

/** The tenant a job's data names, if it names one. */
export function tenantOf(data: unknown): string | undefined {
  const t = record(record(data)?.request)?.tenantId;
  return typeof t === 'string' ? t : undefined;
}

/** Whether a job's data asks for streaming (unreadable data does not). */
export function isStreamedData(data: unknown): boolean {
  return record(record(data)?.request)?.stream === true;
}
