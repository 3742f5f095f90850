import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorCode } from '../../errors.js';

/** How credentials are read from a request and how refusals are answered, for every guard. */

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Constant-time comparison of two strings of any length. */
export function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
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

/** `?token=` given once (a repeated parameter is no token). */
export function queryToken(req: FastifyRequest): string | undefined {
  const q = req.query;
  if (typeof q !== 'object' || q === null || !('token' in q)) return undefined;
  return typeof q.token === 'string' ? q.token : undefined;
}

export async function refuse(reply: FastifyReply, status: number, code: ErrorCode, message: string): Promise<void> {
  if (status === 401) void reply.header('www-authenticate', 'Bearer');
  await reply.code(status).send({ error: { code, message } });
}

/** 429 for a client over its failed-attempt limit; nothing about the credentials was checked. */
export async function tooManyAttempts(reply: FastifyReply, waitMs: number): Promise<void> {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  await reply
    .code(429)
    .header('retry-after', String(seconds))
    .send({ error: { code: 'too_many_attempts', message: `too many failed authentication attempts from this address: retry in ${seconds} s` } });
}
