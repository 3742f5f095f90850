import type { Part } from './request-content.js';
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
  'blocked', // promptFeedback.blockReason, or an answer withheld (finishReason SAFETY, RECITATION, ...)
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

/** A JSON object Gemini sent, passed on as given. */
export type JsonObject = Record<string, unknown>;

export interface SuccessOutcome {
  kind: 'success';
  /** the answer's text: the non-thought text parts, concatenated */
  text: string;
  /**
   * The candidate's content.parts as Gemini sent them (text, thought,
   * functionCall, executableCode, codeExecutionResult; thoughtSignature on the
   * part that carried it). To continue the conversation, append
   * { role: 'model', parts } to the history unchanged.
   */
  parts: Part[];
  usage: Usage;
  finishReason: string | null;
  /** the candidate's safetyRatings; [] when none */
  safetyRatings: JsonObject[];
  /** present when the answer was grounded (Google Search, URL context) */
  groundingMetadata?: JsonObject;
  /** present when the answer cites sources */
  citationMetadata?: JsonObject;
  modelVersion: string | null;
  responseId: string | null;
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
  /**
   * Streaming only: chunks already handed to the consumer when the call
   * failed (absent when it failed before the first one). The consumer must
   * discard them before a retry streams the answer again.
   */
  chunksDelivered?: number;
}

export type Outcome = SuccessOutcome | FailureOutcome;

/** One piece of a streamed answer, as the adapter hands it over. */
export interface StreamChunk {
  /** the text this chunk adds (non-thought text parts) */
  text: string;
  /** this chunk's parts, as Gemini sent them */
  parts: Part[];
  /** cumulative usage so far, when this chunk carried usageMetadata */
  usage?: Usage;
}

export const ZERO_USAGE: Readonly<Usage> = Object.freeze({ promptTokens: 0, candidatesTokens: 0, totalTokens: 0, thoughtsTokens: 0, cachedTokens: 0 });
