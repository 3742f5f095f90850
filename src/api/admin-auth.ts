import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuthThrottle } from './security/auth-throttle.js';
import { throttleSubject } from './security/client-address.js';
import { bearerOf, cookieOf, queryToken, refuse, sameSecret, tooManyAttempts } from './security/credentials.js';
import { ADMIN_COOKIE, clearedSessionCookie, sessionCookie } from './security/session-cookie.js';
import type { AdminSession, AdminSessionStore } from './security/session-store.js';

export { ADMIN_COOKIE, bearerOf, cookieOf, sameSecret };

/** The subject the admin surface's surface-wide counter is kept under. */
export const ALL_ADDRESSES = 'all';

export interface AdminGuardDeps {
  /** QUOTAFLOW_ADMIN_TOKEN; undefined: the whole admin surface answers 404, never open */
  adminToken: string | undefined;
  sessions: AdminSessionStore;
  /** failed attempts per client address */
  throttle: AuthThrottle;
  /** failed token attempts of all addresses together (subject ALL_ADDRESSES) */
  throttleAll: AuthThrottle;
  /** how long a session opened by this guard lives */
  sessionTtlMs: number;
  clock?: () => number;
}

/** What a session records of the admin token: a digest, so a changed token ends the session. */
export function adminTokenDigest(adminToken: string): string {
  return createHash('sha256').update(`quotaflow-admin-session\u0000${adminToken}`, 'utf8').digest('hex');
}

/** A navigation by a browser (a page), as opposed to an API call. */
function isPage(req: FastifyRequest): boolean {
  return req.method === 'GET' && /\btext\/html\b/.test(req.headers.accept ?? '');
}

/**
 * The admin surface's guard, an onRequest hook for every admin route (API,
 * Bull Board, dashboard). A request is admitted with `Authorization: Bearer
 * <QUOTAFLOW_ADMIN_TOKEN>`, with `?token=` on a GET, or with the cookie of a
 * live session. `?token=`, or a bearer token on a page, opens a session: a
 * random id in an HttpOnly cookie, the session itself in the store with its
 * expiry. Failed attempts count against the client's address, and token
 * failures also against the surface as a whole; over either limit the
 * answer is 429 before anything is checked. Sessions still work while the
 * surface-wide limit holds, so a flood from many addresses does not lock out
 * an admin who is already signed in.
 */
export function adminGuard(deps: AdminGuardDeps) {
  const clock = deps.clock ?? Date.now;

  const liveSession = async (id: string | undefined, token: string): Promise<AdminSession | null> => {
    if (id === undefined) return null;
    const s = await deps.sessions.get(id);
    return s && s.expiresAt > clock() && sameSecret(s.tokenDigest, adminTokenDigest(token)) ? s : null;
  };

  const openSession = async (req: FastifyRequest, reply: FastifyReply, token: string): Promise<void> => {
    if (await liveSession(cookieOf(req, ADMIN_COOKIE), token)) return;
    const now = clock();
    const id = await deps.sessions.create({ createdAt: now, expiresAt: now + deps.sessionTtlMs, tokenDigest: adminTokenDigest(token) });
    void reply.header('set-cookie', sessionCookie(req, id, deps.sessionTtlMs));
  };

  const withToken = async (req: FastifyRequest, reply: FastifyReply, given: string, token: string, subject: string): Promise<void> => {
    const mine = await deps.throttle.attempt(subject);
    if (mine > 0) return tooManyAttempts(reply, mine);
    const all = await deps.throttleAll.attempt(ALL_ADDRESSES);
    if (all > 0) return tooManyAttempts(reply, all);
    if (!sameSecret(given, token)) return refuse(reply, 403, 'forbidden', 'wrong admin token');
    await Promise.all([deps.throttle.giveBack(subject), deps.throttleAll.giveBack(ALL_ADDRESSES)]);
    if (queryToken(req) !== undefined || isPage(req)) await openSession(req, reply, token);
  };

  const withCookie = async (req: FastifyRequest, reply: FastifyReply, id: string, token: string, subject: string): Promise<void> => {
    const wait = await deps.throttle.wait(subject);
    if (wait > 0) return tooManyAttempts(reply, wait);
    if (await liveSession(id, token)) return;
    await deps.throttle.attempt(subject);
    void reply.header('set-cookie', clearedSessionCookie(req));
    return refuse(reply, 403, 'forbidden', 'admin session expired or unknown: open the page with ?token= again');
  };

  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const token = deps.adminToken;
    if (!token) return refuse(reply, 404, 'admin_disabled', 'the admin surface is off: set QUOTAFLOW_ADMIN_TOKEN to enable it');
    const subject = throttleSubject(req.ip);
    const given = bearerOf(req) ?? (req.method === 'GET' ? queryToken(req) : undefined);
    if (given !== undefined) return withToken(req, reply, given, token, subject);
    const cookie = cookieOf(req, ADMIN_COOKIE);
    if (cookie !== undefined) return withCookie(req, reply, cookie, token, subject);
    return refuse(reply, 401, 'unauthorized', 'admin token required: Authorization: Bearer <QUOTAFLOW_ADMIN_TOKEN> (or ?token= on a page)');
  };
}

/**
 * `POST /admin/logout`, registered inside the admin-guarded scope: ends the
 * session the cookie names (server-side, so the cookie is worthless even if
 * it was copied) and clears the cookie. 204 also when there was none.
 */
export function adminLogoutRoute(app: FastifyInstance, sessions: AdminSessionStore): void {
  app.post('/admin/logout', async (req, reply) => {
    const id = cookieOf(req, ADMIN_COOKIE);
    if (id !== undefined) await sessions.delete(id);
    return reply.code(204).header('set-cookie', clearedSessionCookie(req)).header('cache-control', 'no-store').send();
  });
}
