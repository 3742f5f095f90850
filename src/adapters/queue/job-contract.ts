import type { AttemptRecord, JobState } from '../../core/job.js';
import type { GenerationRequest } from '../../core/request.js';
import { FAILURE_REASONS, type FailureReason } from '../../core/types.js';

export { emptyState, type AttemptRecord, type GenerationJobData, type GenerationResult, type JobState, type TriedPair } from '../../core/job.js';

/** The one queue producers write to and generation workers read. */
export const GENERATION_QUEUE = 'generations';
export const GENERATION_JOB = 'generate';


export interface GenerationFailure {
  jobId: string;
  reason: FailureReason;
  message: string;
  attempts: AttemptRecord[];
}

/** failedReason on a BullMQ job is `<reason>: <message>`; this reads it back. */
export function encodeFailure(reason: FailureReason, message: string): string {
  return `${reason}: ${message}`;
}

const isReason = (s: string): s is FailureReason => (FAILURE_REASONS as readonly string[]).includes(s);

export function decodeFailure(failedReason: string | undefined): { reason: FailureReason; message: string } {
  const text = failedReason ?? '';
  const i = text.indexOf(': ');
  const head = i > 0 ? text.slice(0, i) : '';
  if (isReason(head)) return { reason: head, message: text.slice(i + 2) };
  // anything else (a crash, a stalled job given up by BullMQ) is reported as exhausted
  return { reason: 'exhausted', message: text || 'job failed' };
}
