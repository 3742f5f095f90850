import type { FastifyRequest } from 'fastify';
import type { Tenant } from '../../core/types.js';
import { bearerOf } from '../admin-auth.js';
import { isAuthFailure, type CompatDeps } from './deps.js';
import { CompatError } from './problems.js';

/**
 * Tenant tokens arrive the way each SDK sends an API key: Gemini style
 * (`x-goog-api-key` header, or `?key=` in the URL) or OpenAI style
 * (`Authorization: Bearer`). A token is never logged nor echoed.
 */
export function tokenOf(req: FastifyRequest): string | undefined {
  const header = req.headers['x-goog-api-key'];
  if (typeof header === 'string' && header.trim() !== '') return header.trim();
  const bearer = bearerOf(req);
  if (bearer !== undefined) return bearer;
  const q = req.query;
  if (typeof q === 'object' && q !== null && 'key' in q && typeof q.key === 'string' && q.key !== '') return q.key;
  return undefined;
}

/** True when the caller speaks Gemini's way (the one hint that tells two dialects sharing a path apart). */
export function sendsGoogleKey(req: FastifyRequest): boolean {
  const q = req.query;
  return typeof req.headers['x-goog-api-key'] === 'string' || (typeof q === 'object' && q !== null && 'key' in q);
}

/** Strips `key=` and `token=` values from a URL before it is logged. */
export function loggableUrl(url: string): string {
  return url.replace(/([?&](?:key|token)=)[^&]*/gi, '$1[redacted]');
}

declare module 'fastify' {
  interface FastifyRequest {
    /** set by the compatible routes' onRequest hook */
    compatTenant?: Tenant;
  }
}

/**
 * An onRequest hook: authenticates before the body is read, so a caller
 * without a valid token cannot make the server parse a large body.
 */
export function tenantHook(deps: Pick<CompatDeps, 'authenticate'>) {
  return async (req: FastifyRequest): Promise<void> => {
    req.compatTenant = await authenticateRequest(req, deps);
  };
}

/** The tenant the hook found (it runs before every compatible route). */
export function tenantOf(req: FastifyRequest): Tenant {
  if (!req.compatTenant) throw new CompatError({ kind: 'internal', message: 'no tenant on the request' });
  return req.compatTenant;
}

/** The tenant the request's token belongs to; a CompatError (401 / 403 / bad key) otherwise. */
export async function authenticateRequest(req: FastifyRequest, deps: Pick<CompatDeps, 'authenticate'>): Promise<Tenant> {
  const token = tokenOf(req);
  if (token === undefined) {
    throw new CompatError({
      kind: 'unauthenticated',
      message: 'a tenant token is required: send it as the API key (x-goog-api-key header or ?key= for Gemini clients, Authorization: Bearer for OpenAI clients)',
    });
  }
  const found = await deps.authenticate(token, req.ip);
  if (!isAuthFailure(found)) return found;
  if (found.failure === 'throttled') {
    throw new CompatError({ kind: 'rate_limited', code: 'too_many_attempts', message: 'too many failed authentication attempts from this address; try again later', retryAfterSec: found.retryAfterSec ?? 60 });
  }
  if (found.failure === 'forbidden') throw new CompatError({ kind: 'permission_denied', message: found.message ?? 'this tenant may not use the API' });
  throw new CompatError({ kind: 'invalid_token', message: 'API key not valid. Please pass a valid API key.' });
}
