import type { FastifyRequest } from 'fastify';

/** The admin session cookie: it names a server-side session and holds nothing else. */
export const ADMIN_COOKIE = 'qf_admin';

/**
 * `Secure` when the request reached the API over HTTPS: on its own TLS
 * socket, or through a proxy that QUOTAFLOW_TRUST_PROXY names and that says
 * `x-forwarded-proto: https` (Fastify's `req.protocol` believes only those).
 * A browser on plain http would drop a Secure cookie, so it is not forced.
 */
function attributes(req: FastifyRequest): string {
  return `Path=/; HttpOnly; SameSite=Strict${req.protocol === 'https' ? '; Secure' : ''}`;
}

export function sessionCookie(req: FastifyRequest, id: string, ttlMs: number): string {
  return `${ADMIN_COOKIE}=${id}; ${attributes(req)}; Max-Age=${Math.max(1, Math.floor(ttlMs / 1000))}`;
}

/** Tells the browser to forget the cookie (session ended, or logged out). */
export function clearedSessionCookie(req: FastifyRequest): string {
  return `${ADMIN_COOKIE}=; ${attributes(req)}; Max-Age=0`;
}
