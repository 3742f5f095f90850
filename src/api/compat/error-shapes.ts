import type { Problem, ProblemKind } from './problems.js';

/**
 * Problems in each API's own error shape and status, so that code written
 * against Google or OpenAI handles quotaflow's errors unchanged.
 */
export interface ErrorAnswer {
  status: number;
  body: { error: Record<string, unknown> };
  headers: Record<string, string>;
}

const STATUS: Record<ProblemKind, number> = {
  invalid_argument: 400,
  unauthenticated: 401,
  invalid_token: 401,
  permission_denied: 403,
  not_found: 404,
  rate_limited: 429,
  over_budget: 429,
  unavailable: 503,
  deadline: 504,
  internal: 500,
  interrupted: 503,
};

const GOOGLE_STATUS: Record<ProblemKind, string> = {
  invalid_argument: 'INVALID_ARGUMENT',
  unauthenticated: 'UNAUTHENTICATED',
  invalid_token: 'INVALID_ARGUMENT',
  permission_denied: 'PERMISSION_DENIED',
  not_found: 'NOT_FOUND',
  rate_limited: 'RESOURCE_EXHAUSTED',
  over_budget: 'RESOURCE_EXHAUSTED',
  unavailable: 'UNAVAILABLE',
  deadline: 'DEADLINE_EXCEEDED',
  internal: 'INTERNAL',
  interrupted: 'UNAVAILABLE',
};

const OPENAI_TYPE: Record<ProblemKind, string> = {
  invalid_argument: 'invalid_request_error',
  unauthenticated: 'authentication_error',
  invalid_token: 'authentication_error',
  permission_denied: 'permission_error',
  not_found: 'not_found_error',
  rate_limited: 'rate_limit_error',
  over_budget: 'rate_limit_error',
  unavailable: 'server_error',
  deadline: 'server_error',
  internal: 'api_error',
  interrupted: 'server_error',
};

const OPENAI_CODE: Record<ProblemKind, string | null> = {
  invalid_argument: null,
  unauthenticated: 'missing_api_key',
  invalid_token: 'invalid_api_key',
  permission_denied: 'permission_denied',
  not_found: 'not_found',
  rate_limited: 'rate_limit_exceeded',
  over_budget: 'insufficient_quota',
  unavailable: 'service_unavailable',
  deadline: 'timeout',
  internal: 'internal_error',
  interrupted: 'stream_interrupted',
};

function headersOf(p: Problem): Record<string, string> {
  return {
    ...(p.retryAfterSec !== undefined ? { 'retry-after': String(p.retryAfterSec) } : {}),
    // the openai SDK retries 429 and 5xx on its own unless told that it cannot help
    ...(p.retryable === false ? { 'x-should-retry': 'false' } : {}),
  };
}

/** What Google answers for a key it does not know: 400 with reason API_KEY_INVALID. */
function apiKeyInvalidDetails(message: string): unknown[] {
  return [
    { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com', metadata: { service: 'generativelanguage.googleapis.com' } },
    { '@type': 'type.googleapis.com/google.rpc.LocalizedMessage', locale: 'en-US', message },
  ];
}

/** Gemini: `{ error: { code, message, status, details? } }`, code = the HTTP status. */
export function geminiError(p: Problem): ErrorAnswer {
  // Google answers a bad key and an oversized body with 400, whatever the cause's own status
  const status = p.kind === 'invalid_token' || p.kind === 'invalid_argument' ? 400 : (p.status ?? STATUS[p.kind]);
  const details =
    p.kind === 'invalid_token'
      ? apiKeyInvalidDetails(p.message)
      : p.retryAfterSec !== undefined
        ? [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${p.retryAfterSec}s` }]
        : undefined;
  return { status, body: { error: { code: status, message: p.message, status: GOOGLE_STATUS[p.kind], ...(details ? { details } : {}) } }, headers: headersOf(p) };
}

/** OpenAI: `{ error: { message, type, code, param } }`. */
export function openaiError(p: Problem): ErrorAnswer {
  const status = p.status ?? STATUS[p.kind];
  const code = p.code ?? (p.kind === 'not_found' && p.param === 'model' ? 'model_not_found' : OPENAI_CODE[p.kind]);
  return { status, body: { error: { message: p.message, type: OPENAI_TYPE[p.kind], code, param: p.param ?? null } }, headers: headersOf(p) };
}
