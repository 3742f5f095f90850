import type { Tenant } from '../../core/types.js';
import type { GenerationService } from '../generation-service.js';

/** Why a token did not authenticate: no tenant has it, or its tenant may not use the API. */
export interface AuthFailure {
  failure: 'unknown_token' | 'forbidden' | 'throttled';
  /** shown to the caller; never contains the token */
  message?: string;
  /** throttled: seconds until the address may try again */
  retryAfterSec?: number;
}

export function isAuthFailure(x: Tenant | AuthFailure): x is AuthFailure {
  return 'failure' in x;
}

/** What the compatible endpoints log through: warnings and failures (and callers that hang up, at debug), never a token. */
export interface CompatLogger {
  debug?(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * What the Gemini-native and OpenAI-compatible endpoints are built on. Every
 * call becomes a job of `service`, so it goes through the queue, admission,
 * the fallback chain and the tenant's limits like any other.
 */
export interface CompatDeps {
  service: GenerationService;
  /** Resolves a tenant token for a client address (hashed, looked up, failed attempts throttled); throws only when the lookup itself failed. */
  authenticate: (token: string, ip: string) => Promise<Tenant | AuthFailure>;
  /** how long an answer may wait for its job; a client timeout header can only shorten it */
  maxWaitMs: number;
  logger: CompatLogger;
  /** true: the tenant's requests are served by the model they name and no other; default false */
  pinModel?: (tenant: Tenant) => boolean;
  /** request body limit of the POST routes in bytes (inline media is base64); default: the server's */
  bodyLimit?: number;
  /** ms since the epoch, for `created` fields; default Date.now */
  now?: () => number;
}

/** The API dialect a route speaks: which error shape it answers with. */
export type Dialect = 'gemini' | 'openai';
