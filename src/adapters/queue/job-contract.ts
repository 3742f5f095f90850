import type { FailureClass } from '../../core/outcome.js';
import type { GenerationRequest } from '../../core/request.js';
import type { FailureReason, Usage } from '../../core/types.js';

/** The one queue producers write to and generation workers read. */
export const GENERATION_QUEUE = 'generations';
export const GENERATION_JOB = 'generate';

/** One upstream call a job made. Key ids only: never a secret. */
export interface AttemptRecord {
  at: number;
  keyId: string;
  projectId: string;
  model: string;
  central: boolean;
  outcome: 'success' | FailureClass;
  status: number | null;
  latencyMs: number;
}

/** A (key, model) pair this job tried, and until when it must not try it again. */
export interface TriedPair {
  keyId: string;
  model: string;
  until: number;
}

export interface JobState {
  attempts: AttemptRecord[];
  tried: TriedPair[];
  /** how many times the model changed between consecutive attempts */
  switches: number;
  /** how many times the job was delayed for lack of capacity (does not spend attempts) */
  waits: number;
}

export interface GenerationJobData {
  request: GenerationRequest;
  /** epoch ms the producer enqueued it; the deadline counts from here */
  enqueuedAt: number;
  state?: JobState;
}

export interface GenerationResult {
  jobId: string;
  text: string;
  model: string;
  keyId: string;
  project: string;
  /** served by an operator (central) key rather than the tenant's own */
  central: boolean;
  usage: Usage;
  finishReason: string | null;
  attempts: AttemptRecord[];
}

export interface GenerationFailure {
  jobId: string;
  reason: FailureReason;
  message: string;
  attempts: AttemptRecord[];
}

export function emptyState(): JobState {
  return { attempts: [], tried: [], switches: 0, waits: 0 };
}

/** failedReason on a BullMQ job is `<reason>: <message>`; this reads it back. */
export function encodeFailure(reason: FailureReason, message: string): string {
  return `${reason}: ${message}`;
}

const REASONS: readonly string[] = ['exhausted', 'deadline', 'invalid_request', 'blocked', 'no_keys'];

export function decodeFailure(failedReason: string | undefined): { reason: FailureReason; message: string } {
  const text = failedReason ?? '';
  const i = text.indexOf(': ');
  const head = i > 0 ? text.slice(0, i) : '';
  if (REASONS.includes(head)) return { reason: head as FailureReason, message: text.slice(i + 2) };
  // anything else (a crash, a stalled job given up by BullMQ) is reported as exhausted
  return { reason: 'exhausted', message: text || 'job failed' };
}
