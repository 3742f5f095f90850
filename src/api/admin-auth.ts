import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * The admin surface's guard. A request is admitted with `Authorization:
 * Bearer <QUOTAFLOW_ADMIN_TOKEN>` or with the session cookie a browser gets
 * from `?token=` on a page (the cookie holds a digest, never the token).
 * With no admin token configured the whole surface answers 404: never open.
 */
export const ADMIN_COOKIE = 'qf_admin';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Constant-time comparison of two strings of any length. */
export function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/** What the cookie holds: derived from the token so the token itself never sits in a browser jar. */
export function sessionValue(adminToken: string): string {
  return createHash('sha256').update(`quotaflow-admin-session\u0000${adminToken}`, 'utf8').digest('hex');
}

export function bearerOf(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (typeof h !== 'string') return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m?.[1];
}

export function cookieOf(req: FastifyRequest, name: string): string | undefined {
  const raw = req.headers.cookie;
  if (typeof raw !== 'string') return undefined;
  for (const part of raw.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

function queryToken(req: FastifyRequest): string | undefined {
  const q = req.query;
  if (typeof q !== 'object' || q === null || !('token' in q)) return undefined;
  return typeof q.token === 'string' ? q.token : undefined;
}

export type AdminCheck = 'ok' | 'ok_set_cookie' | 'disabled' | 'missing' | 'wrong';

/** Decides whether a request may use the admin surface. */
export function checkAdmin(req: FastifyRequest, adminToken: string | undefined): AdminCheck {
  if (!adminToken) return 'disabled';
  const bearer = bearerOf(req);
  if (bearer !== undefined) return sameSecret(bearer, adminToken) ? 'ok' : 'wrong';
  const q = req.method === 'GET' ? queryToken(req) : undefined;
  if (q !== undefined) return sameSecret(q, adminToken) ? 'ok_set_cookie' : 'wrong';
  const cookie = cookieOf(req, ADMIN_COOKIE);
  if (cookie !== undefined) return sameSecret(cookie, sessionValue(adminToken)) ? 'ok' : 'wrong';
  return 'missing';
}

/** An onRequest hook for every admin route (API, Bull Board, dashboard). */
export function adminGuard(adminToken: string | undefined) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const c = checkAdmin(req, adminToken);
    switch (c) {
      case 'ok':
        return;
      case 'ok_set_cookie':
        void reply.header('set-cookie', `${ADMIN_COOKIE}=${sessionValue(adminToken ?? '')}; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200`);
        return;
      case 'disabled':
        await reply.code(404).send({ error: { code: 'admin_disabled', message: 'the admin surface is off: set QUOTAFLOW_ADMIN_TOKEN to enable it' } });
        return;
      case 'missing':
        await reply
          .code(401)
          .header('www-authenticate', 'Bearer')
          .send({ error: { code: 'unauthorized', message: 'admin token required: Authorization: Bearer <QUOTAFLOW_ADMIN_TOKEN> (or ?token= on a page)' } });
        return;
      case 'wrong':
        await reply.code(403).send({ error: { code: 'forbidden', message: 'wrong admin token' } });
        return;
    }
  };
}
