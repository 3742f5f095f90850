import type { FastifyRequest } from 'fastify';
import { MAX_DEADLINE_MS, MIN_DEADLINE_MS } from '../../core/request.js';
import type { CompatDeps } from './deps.js';
import { CompatError } from './problems.js';

/** How one HTTP call waits for its job, and how it is deduplicated. */
export interface CallOptions {
  /** how long the answer waits for the job */
  waitMs: number;
  /** the job's own deadline: it should not go on once nobody waits for it */
  deadlineMs: number;
  idempotencyKey?: string;
}

/**
 * Client timeouts, in whole seconds, as the SDKs send them: `X-Server-Timeout`
 * (@google/genai's httpOptions.timeout) and `X-Stainless-Timeout` (openai's timeout).
 */
const TIMEOUT_HEADERS = ['x-server-timeout', 'x-stainless-timeout'] as const;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,200}$/;

function clientTimeoutMs(req: FastifyRequest): number | undefined {
  for (const name of TIMEOUT_HEADERS) {
    const raw = req.headers[name];
    const n = typeof raw === 'string' ? Number(raw) : NaN;
    if (Number.isFinite(n) && n > 0) return n * 1000;
  }
  return undefined;
}

function idempotencyKeyOf(req: FastifyRequest): string | undefined {
  const raw = req.headers['idempotency-key'];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !IDEMPOTENCY_KEY.test(raw)) {
    throw new CompatError({ kind: 'invalid_argument', message: 'Idempotency-Key: 1-200 visible ASCII characters', param: 'Idempotency-Key' });
  }
  return raw;
}

/** The call's wait (the client's own timeout if shorter than maxWaitMs) and idempotency key. */
export function callOptions(req: FastifyRequest, maxWaitMs: number): CallOptions {
  const client = clientTimeoutMs(req);
  const waitMs = Math.max(1, Math.min(maxWaitMs, client ?? maxWaitMs));
  const deadlineMs = Math.min(MAX_DEADLINE_MS, Math.max(MIN_DEADLINE_MS, Math.round(waitMs)));
  const key = idempotencyKeyOf(req);
  return { waitMs, deadlineMs, ...(key !== undefined ? { idempotencyKey: key } : {}) };
}

/** Route options for the POST routes: the configured body limit, if any. */
export function bodyLimit(deps: Pick<CompatDeps, 'bodyLimit'>): { bodyLimit?: number } {
  return deps.bodyLimit !== undefined ? { bodyLimit: deps.bodyLimit } : {};
}
