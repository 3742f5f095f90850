import type { FailureClass, JsonObject } from './outcome.js';
import type { Part } from './request-content.js';
import type { GenerationRequest } from './request.js';
import type { FailureReason, Usage } from './types.js';

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
  /** what the job waited for the last time it was delayed (status shows why jobs are delayed) */
  waitReason?: string;
}

export function emptyState(): JobState {
  return { attempts: [], tried: [], switches: 0, waits: 0 };
}

/** What a completed job returns to the producer. */
export interface GenerationResult {
  jobId: string;
  /** the answer's text (non-thought text parts, concatenated): enough for the simple case */
  text: string;
  /**
   * The candidate's content.parts as Gemini sent them: text, function calls,
   * thought signatures, executable code. To continue the turn, append
   * `{ role: 'model', parts }` to the conversation unchanged.
   */
  parts: Part[];
  model: string;
  keyId: string;
  project: string;
  /** served by an operator (central) key rather than the tenant's own */
  central: boolean;
  usage: Usage;
  finishReason: string | null;
  safetyRatings: JsonObject[];
  groundingMetadata?: JsonObject;
  citationMetadata?: JsonObject;
  /** the model version Gemini reports having used */
  modelVersion: string | null;
  responseId: string | null;
  attempts: AttemptRecord[];
}

/**
 * What a reader of a streamed job sees, in order, each with an id it can
 * resume after: `chunk`s of the answer; `reset` when an attempt failed after
 * chunks were sent (drop the partial answer: the next candidate starts over);
 * then `done` with the result, or `error` with the failure's reason.
 */
export type StreamEvent =
  | { type: 'chunk'; id: string; text: string; parts: Part[]; usage?: Usage }
  | { type: 'reset'; id: string; reason: string }
  | { type: 'done'; id: string; result: GenerationResult }
  | { type: 'error'; id: string; reason: FailureReason; message: string };

/** Per-job budget: upstream attempts, model switches, and the deadline used when a request names none. */
export interface Budget {
  maxAttempts: number;
  maxSwitches: number;
  defaultDeadlineMs: number;
}

/** What a generation job carries in the queue: the request, when it was enqueued, and the job's state between attempts. */
export interface GenerationJobData {
  request: GenerationRequest;
  /** epoch ms the producer enqueued it; the deadline counts from here */
  enqueuedAt: number;
  state?: JobState;
}
