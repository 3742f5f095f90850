import type { FailureClass } from './outcome.js';
import type { Usage } from './types.js';

/**
 * A generation job's own record, carried in its job data so that any worker
 * can go on where another stopped: what it tried, how often, and until when
 * it must not try a (key, model) again. Key ids only: never a secret.
 */
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

export function emptyState(): JobState {
  return { attempts: [], tried: [], switches: 0, waits: 0 };
}

/** What a completed job returns to the producer. */
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

/** Per-job budget: upstream attempts, model switches, and the deadline used when a request names none. */
export interface Budget {
  maxAttempts: number;
  maxSwitches: number;
  defaultDeadlineMs: number;
}
