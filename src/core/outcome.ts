import type { Dimension, Usage } from './types.js';

/**
 * What one upstream call came to, as data. The Gemini adapter produces it,
 * the core decides what it means (blame, backoff, budget), and only the
 * worker turns that decision into queue control flow.
 */
export const FAILURE_CLASSES = [
  'rate_minute', // 429 with a PerMinute quotaId
  'rate_day', // 429 with a PerDay quotaId
  'rate_unknown', // 429 without usable details
  'overloaded', // 503 (either wording)
  'internal', // 500
  'timeout', // 504 or a client-side deadline
  'network', // no HTTP answer at all
  'key_invalid', // 400 API_KEY_INVALID
  'key_forbidden', // 403 leaked / suspended / service disabled
  'model_not_found', // 404
  'bad_request', // other 400s: the request itself is wrong
  'blocked', // safety block (promptFeedback.blockReason or finishReason SAFETY)
] as const;
export type FailureClass = (typeof FAILURE_CLASSES)[number];

export interface QuotaViolation {
  /** e.g. GenerateRequestsPerMinutePerProjectPerModel-FreeTier */
  quotaId: string;
  quotaMetric: string | null;
  /** the limit Google applied, when it said so */
  quotaValue: number | null;
  /** which of our dimensions the violation is about, when it can be told */
  dimension: Dimension | null;
}

export interface SuccessOutcome {
  kind: 'success';
  text: string;
  usage: Usage;
  finishReason: string | null;
}

export interface FailureOutcome {
  kind: 'failure';
  failure: FailureClass;
  /** HTTP status, null when there was no HTTP answer */
  status: number | null;
  /** short human-readable text; never contains a secret */
  message: string;
  /** RetryInfo.retryDelay in ms, when given */
  retryAfterMs: number | null;
  violation: QuotaViolation | null;
}

export type Outcome = SuccessOutcome | FailureOutcome;
