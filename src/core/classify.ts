import type { FailureClass, FailureOutcome, Outcome, QuotaViolation } from './outcome.js';
import { answerPartSchema, type Part } from './request-content.js';
import type { Dimension, Usage } from './types.js';

/**
 * Turns what Gemini answered (or failed to answer) into an Outcome. Pure:
 * the adapter hands in status + body text, a thrown error, or parsed JSON.
 * Every unknown shape lands on a safe class rather than throwing.
 */

const MAX_MESSAGE_CHARS = 200;
const API_KEY = /AIza[0-9A-Za-z_-]{20,}/g;
// `key=` query parameters and the like (`apikey=`, `x-goog-api-key=` too): over-redacting is harmless.
const KEY_PARAM = /key=[^&\s"'<>,;]*/gi;

/** Removes anything that looks like an API key; outcome messages end up in logs and job results. */
export function scrubSecrets(text: string): string {
  return text.replace(API_KEY, '[redacted]').replace(KEY_PARAM, 'key=[redacted]');
}

/** Scrubs before truncating so a cut can never leave half a key unrecognised. */
function shortMessage(text: string): string {
  const flat = scrubSecrets(text).replace(/\s+/g, ' ').trim();
  return flat.length > MAX_MESSAGE_CHARS ? `${flat.slice(0, MAX_MESSAGE_CHARS - 1)}…` : flat;
}

export type Json = Record<string, unknown>;
export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
export const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

export function failure(failureClass: FailureClass, status: number | null, message: string, extra?: Partial<FailureOutcome>): FailureOutcome {
  return { kind: 'failure', failure: failureClass, status, message: shortMessage(message), retryAfterMs: null, violation: null, ...extra };
}

// ---------------------------------------------------------------- HTTP errors

interface ErrorBody {
  message: string | null;
  details: Json[];
}

function parseErrorBody(bodyText: string): ErrorBody | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bodyText);
  } catch {
    return null;
  }
  // Streaming endpoints wrap the error in an array.
  const root = Array.isArray(parsed) ? (parsed[0] as unknown) : parsed;
  if (!isObject(root) || !isObject(root.error)) return null;
  const details = Array.isArray(root.error.details) ? root.error.details.filter(isObject) : [];
  return { message: str(root.error.message), details };
}

/** Details are found by @type, never by position: their order varies. */
function detailOf(body: ErrorBody, type: string): Json | undefined {
  return body.details.find((d) => str(d['@type'])?.endsWith(`google.rpc.${type}`) === true);
}

/** "37s" / "0.5s" (JSON form) or { seconds, nanos } (proto form) => ms. */
export function parseRetryDelay(value: unknown): number | null {
  if (typeof value === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)s\s*$/.exec(value);
    return m?.[1] === undefined ? null : Math.round(Number(m[1]) * 1000);
  }
  if (isObject(value)) {
    const seconds = Number(value.seconds ?? 0);
    const nanos = Number(value.nanos ?? 0);
    if (Number.isFinite(seconds) && Number.isFinite(nanos) && seconds >= 0 && nanos >= 0) return Math.round(seconds * 1000 + nanos / 1e6);
  }
  return null;
}

function retryAfterOf(body: ErrorBody): number | null {
  const fromInfo = parseRetryDelay(detailOf(body, 'RetryInfo')?.retryDelay);
  if (fromInfo !== null) return fromInfo;
  // Some 429s only say it in prose: "Please retry in 58.821668433s."
  const m = body.message === null ? null : /retry in (\d+(?:\.\d+)?)s\b/i.exec(body.message);
  return m?.[1] === undefined ? null : Math.round(Number(m[1]) * 1000);
}

function toViolation(v: Json): QuotaViolation & { period: 'minute' | 'day' | null } {
  const quotaId = str(v.quotaId) ?? '';
  const quotaMetric = str(v.quotaMetric);
  const raw = v.quotaValue;
  const value = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : typeof raw === 'number' ? raw : Number.NaN;
  const period = quotaId.includes('PerDay') ? 'day' : quotaId.includes('PerMinute') ? 'minute' : null;
  const tokens = /InputTokens|token/i.test(`${quotaId} ${quotaMetric ?? ''}`);
  // There is no tokens-per-day dimension here: leave it unknown rather than mislabel it.
  const dimension: Dimension | null = tokens ? (period === 'minute' ? 'tpm' : null) : period === 'day' ? 'rpd' : period === 'minute' ? 'rpm' : null;
  return { quotaId, quotaMetric, quotaValue: Number.isFinite(value) && value >= 0 ? value : null, dimension, period };
}

function classify429(status: number, body: ErrorBody | null): FailureOutcome {
  if (!body) return failure('rate_unknown', status, 'HTTP 429 without a readable body');
  const retryAfterMs = retryAfterOf(body);
  const message = body.message ?? 'resource exhausted';
  const raw = detailOf(body, 'QuotaFailure')?.violations;
  const violations = (Array.isArray(raw) ? raw.filter(isObject) : []).map(toViolation);
  // A per-day violation dominates: the scope is gone until midnight whatever the minute says.
  const chosen = violations.find((v) => v.period === 'day') ?? violations.find((v) => v.period === 'minute') ?? violations[0];
  if (!chosen) return failure('rate_unknown', status, message, { retryAfterMs });
  const { period, ...violation } = chosen;
  const cls: FailureClass = period === 'day' ? 'rate_day' : period === 'minute' ? 'rate_minute' : 'rate_unknown';
  return failure(cls, status, `${violation.quotaId}: ${message}`, { retryAfterMs, violation });
}

function isInvalidKey(body: ErrorBody | null): boolean {
  if (!body) return false;
  if (str(detailOf(body, 'ErrorInfo')?.reason) === 'API_KEY_INVALID') return true;
  return body.message !== null && /API key not valid|API key expired/i.test(body.message);
}

/** Classifies a non-2xx HTTP answer from its status and raw body text. */
export function classifyHttpError(status: number, bodyText: string): FailureOutcome {
  const body = parseErrorBody(bodyText);
  const message = body?.message ?? `HTTP ${status}${bodyText.trim() ? `: ${bodyText.slice(0, 100)}` : ''}`;
  if (status === 429) return classify429(status, body);
  if (isInvalidKey(body)) return failure('key_invalid', status, message);
  if (status === 401) return failure('key_invalid', status, message); // credentials, not the request
  if (status === 403) return failure('key_forbidden', status, message);
  if (status === 404) return failure('model_not_found', status, message);
  if (status === 408 || status === 504) return failure('timeout', status, message);
  if (status === 503) return failure('overloaded', status, message);
  if (status >= 500) return failure('internal', status, message);
  // Other 4xx (and any odd non-error status handed in): the request itself is wrong.
  return failure('bad_request', status, message);
}

// ----------------------------------------------------------- transport errors

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);

/** The error and its causes (bounded: cause chains can be cyclic). */
function chain(err: unknown): Json[] {
  const out: Json[] = [];
  let cur: unknown = err;
  while (isObject(cur) && !out.includes(cur) && out.length < 5) {
    out.push(cur);
    cur = cur.cause;
  }
  return out;
}

/** Classifies a call that got no HTTP answer. Messages are generic: raw ones may carry URLs. */
export function classifyTransportError(err: unknown): FailureOutcome {
  const links = chain(err);
  const names = links.map((e) => str(e.name) ?? '');
  const codes = links.map((e) => str(e.code) ?? '');
  const messages = links.map((e) => str(e.message) ?? '').join(' | ');
  if (names.includes('AbortError') || names.includes('TimeoutError')) return failure('timeout', null, 'upstream call timed out or was aborted');
  const timeoutCode = codes.find((c) => c === 'ETIMEDOUT' || (c.startsWith('UND_ERR_') && c.endsWith('TIMEOUT')));
  if (timeoutCode) return failure('timeout', null, `upstream call timed out (${timeoutCode})`);
  if (/timed? ?out/i.test(messages)) return failure('timeout', null, 'upstream call timed out');
  const netCode = codes.find((c) => NETWORK_CODES.has(c) || c.startsWith('UND_ERR_'));
  if (netCode) return failure('network', null, `network error (${netCode})`);
  if (/fetch failed/i.test(messages)) return failure('network', null, 'network error (fetch failed)');
  return failure('network', null, 'upstream call failed without an HTTP answer');
}

// ------------------------------------------------------------------ responses

/**
 * Finish reasons that mean Gemini withheld the answer. The content filters
 * (SAFETY, BLOCKLIST, PROHIBITED_CONTENT, SPII and their image forms), and
 * RECITATION: the answer was stopped for reciting a source, so what remains
 * is cut off mid-way and is no answer to show.
 */
export const BLOCKING_FINISH: ReadonlySet<string> = new Set([
  'SAFETY',
  'PROHIBITED_CONTENT',
  'BLOCKLIST',
  'SPII',
  'RECITATION',
  'IMAGE_SAFETY',
  'IMAGE_PROHIBITED_CONTENT',
  'IMAGE_RECITATION',
]);

const count = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);
const objects = (v: unknown): Json[] => (Array.isArray(v) ? v.filter(isObject) : []);

/** usageMetadata (the SDK's object or raw JSON) => Usage; missing counts are 0. */
export function usageOf(meta: unknown): Usage {
  const u = isObject(meta) ? meta : {};
  return {
    promptTokens: count(u.promptTokenCount),
    candidatesTokens: count(u.candidatesTokenCount),
    totalTokens: count(u.totalTokenCount),
    thoughtsTokens: count(u.thoughtsTokenCount),
    cachedTokens: count(u.cachedContentTokenCount),
  };
}

/** The first candidate, or an empty one: quotaflow asks for one candidate. */
export function firstCandidate(resp: Json): Json {
  const first: unknown = Array.isArray(resp.candidates) ? resp.candidates[0] : undefined;
  return isObject(first) ? first : {};
}

/** A candidate's parts, read as given; a part that is not even an object is skipped. */
export function partsOf(candidate: Json): Part[] {
  const raw = isObject(candidate.content) ? objects(candidate.content.parts) : [];
  return raw.flatMap((p) => {
    const read = answerPartSchema.safeParse(p);
    return read.success ? [read.data] : [];
  });
}

/** Thought summaries are not part of the answer (the SDK's own .text skips them too). */
export function answerText(parts: readonly Part[]): string {
  return parts
    .filter((p) => p.thought !== true)
    .map((p) => p.text ?? '')
    .join('');
}

/** Classifies a parsed GenerateContentResponse (the SDK's object or raw JSON alike). */
export function classifyResponse(resp: unknown): Outcome {
  if (!isObject(resp)) return failure('internal', 200, 'malformed response: not an object');
  const blockReason = isObject(resp.promptFeedback) ? str(resp.promptFeedback.blockReason) : null;
  if (blockReason) return failure('blocked', 200, `prompt blocked: ${blockReason}`);
  const candidate = firstCandidate(resp);
  const finishReason = str(candidate.finishReason);
  if (finishReason !== null && BLOCKING_FINISH.has(finishReason)) return failure('blocked', 200, `response blocked: ${finishReason}`);
  const parts = partsOf(candidate);
  return {
    kind: 'success',
    text: answerText(parts),
    parts,
    usage: usageOf(resp.usageMetadata),
    finishReason,
    safetyRatings: objects(candidate.safetyRatings),
    ...(isObject(candidate.groundingMetadata) ? { groundingMetadata: candidate.groundingMetadata } : {}),
    ...(isObject(candidate.citationMetadata) ? { citationMetadata: candidate.citationMetadata } : {}),
    modelVersion: str(resp.modelVersion),
    responseId: str(resp.responseId),
  };
}
