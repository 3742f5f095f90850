import { GenerationFailedError, GenerationTimeoutError } from '../../adapters/queue/client.js';
import type { FailureReason } from '../../core/types.js';
import { DependencyError, NotFoundError, QuotaflowError, TenantLimitError, UnknownTenantError, ValidationError } from '../../errors.js';

/**
 * What went wrong, independent of the dialect: each dialect turns a problem
 * into its own status, error shape and headers (see error-shapes.ts).
 */
export const PROBLEM_KINDS = [
  'invalid_argument',
  'unauthenticated',
  'invalid_token',
  'permission_denied',
  'not_found',
  'rate_limited',
  'over_budget',
  'unavailable',
  'deadline',
  'internal',
  /** an answer already being streamed cannot go on (its attempt failed after chunks went out) */
  'interrupted',
] as const;
export type ProblemKind = (typeof PROBLEM_KINDS)[number];

export interface Problem {
  kind: ProblemKind;
  /** for the caller: never a secret, never internals */
  message: string;
  /** the request parameter at fault (OpenAI's `param`) */
  param?: string;
  /** a more precise machine-readable code than the kind (OpenAI's `code`) */
  code?: string;
  /** seconds the caller should wait before retrying (Retry-After) */
  retryAfterSec?: number;
  /** false: retrying the same request cannot help (sent as x-should-retry: false) */
  retryable?: boolean;
  /** an HTTP status other than the kind's own (a body too large is 413) */
  status?: number;
}

/** Thrown inside the compatible routes; the dialect's error handler answers it. */
export class CompatError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.message);
    this.name = 'CompatError';
  }
}

/** A request parameter is invalid; `param` names it the way the dialect spells it. */
export function paramError(param: string, message: string): CompatError {
  return new CompatError({ kind: 'invalid_argument', message: `${param}: ${message}`, param, code: 'invalid_value' });
}

const DEPENDENCY_RETRY_SEC = 5;
/** A token's tenant the queue's fleet does not know yet: a fleet change is being applied. */
export const FLEET_CHANGE_RETRY_SEC = 2;

/** Failed jobs by reason; `budget` is a tenant over its daily limit or spending budget. */
const FAILED = {
  invalid_request: (message) => ({ kind: 'invalid_argument', message }),
  blocked: (message) => ({ kind: 'invalid_argument', message, code: 'blocked' }),
  exhausted: (message) => ({ kind: 'unavailable', message: `${message} (every model of the chain was tried; retry later)`, code: 'exhausted' }),
  no_keys: (message) => ({ kind: 'unavailable', message: `${message} (no API key can serve this tenant: the operator must add keys)`, code: 'no_keys', retryable: false }),
  // quotaflow already waited as long as the caller allowed: an automatic retry would only wait again
  deadline: (message) => ({ kind: 'deadline', message, retryable: false }),
  budget: (message) => ({ kind: 'over_budget', message, code: 'insufficient_quota', retryable: false }),
  internal: () => ({ kind: 'internal', message: 'the generation failed on an internal error (see the server log)' }),
} satisfies Record<FailureReason | 'budget', (message: string) => Problem>;

const knownReason = (reason: string): reason is keyof typeof FAILED => Object.hasOwn(FAILED, reason);

/** A failed job's reason and message as a problem (an unknown reason is internal). */
export function failureProblem(reason: string, message: string): Problem {
  return knownReason(reason) ? FAILED[reason](message) : FAILED.internal();
}

function fastifyStatus(err: unknown): number | undefined {
  if (!(err instanceof Error) || !('statusCode' in err)) return undefined;
  const s = err.statusCode;
  return typeof s === 'number' && s >= 400 && s < 500 ? s : undefined;
}

/** Any error a compatible route can meet, as a problem. */
export function problemOf(err: unknown): Problem {
  if (err instanceof CompatError) return err.problem;
  // the token was valid, so the tenant exists: the queue's copy of the fleet is behind for a moment
  if (err instanceof UnknownTenantError) {
    return { kind: 'unavailable', message: 'the fleet is being changed and this tenant is not known to the queue yet; retry shortly', code: 'fleet_changing', retryAfterSec: FLEET_CHANGE_RETRY_SEC };
  }
  if (err instanceof ValidationError) return { kind: 'invalid_argument', message: err.message };
  if (err instanceof TenantLimitError) {
    return { kind: 'rate_limited', message: err.message, code: 'rate_limit_exceeded', retryAfterSec: Math.max(1, Math.ceil(err.retryAfterMs / 1000)) };
  }
  if (err instanceof DependencyError) return { kind: 'unavailable', message: 'quotaflow cannot reach its queue right now; retry shortly', retryAfterSec: DEPENDENCY_RETRY_SEC };
  if (err instanceof GenerationFailedError) return failureProblem(err.reason, err.message);
  if (err instanceof GenerationTimeoutError) return { kind: 'deadline', message: `${err.message}; retry with the same Idempotency-Key to pick up its answer`, code: 'timeout', retryable: false };
  if (err instanceof NotFoundError || (err instanceof QuotaflowError && err.code === 'not_found')) return { kind: 'not_found', message: err.message };
  const status = fastifyStatus(err);
  if (status !== undefined && err instanceof Error) return { kind: 'invalid_argument', message: err.message, status };
  return { kind: 'internal', message: 'internal error (see the server log)' };
}
