import { createHash, randomBytes } from 'node:crypto';
import type { RedisClient as Redis } from '../../adapters/redis/connection.js';
import { z } from 'zod';
import { viaRedis } from '../../adapters/redis/errors.js';
import type { RedisKeys } from '../../adapters/redis/keys.js';

/**
 * An admin browser session as stored server-side. Nothing in it is secret:
 * `tokenDigest` is a digest of the admin token the session was opened with,
 * so that changing QUOTAFLOW_ADMIN_TOKEN ends every session opened before.
 */
export interface AdminSession {
  createdAt: number;
  expiresAt: number;
  tokenDigest: string;
}

/**
 * Where admin sessions live. The id is what the browser's cookie holds:
 * random, at least 128 bits, base64url. A session ends by itself at
 * `expiresAt` (the store forgets it then) or when deleted.
 */
export interface AdminSessionStore {
  /** stores a new session under a fresh id and returns the id */
  create(session: AdminSession): Promise<string>;
  /** the session of that id, or null (unknown, ended, or not a well-formed id) */
  get(id: string): Promise<AdminSession | null>;
  /** ends the session; an unknown id is fine */
  delete(id: string): Promise<void>;
}

/** 32 random bytes, base64url: 43 characters. */
export const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

const record = z.object({ createdAt: z.number().int(), expiresAt: z.number().int(), tokenDigest: z.string().regex(/^[0-9a-f]{64}$/) });

export interface RedisSessionStoreOptions {
  clock?: () => number;
  /** source of the ids' randomness (tests); default crypto.randomBytes */
  random?: (bytes: number) => Buffer;
}

/**
 * Sessions in Redis, one key per session that expires with it. The key
 * holds a digest of the id, not the id: a key listing or a dump of Redis
 * yields no cookie that works.
 */
export function redisSessionStore(redis: Redis, keys: RedisKeys, opts: RedisSessionStoreOptions = {}): AdminSessionStore {
  const clock = opts.clock ?? Date.now;
  const random = opts.random ?? randomBytes;
  const key = (id: string): string => keys.adminSession(createHash('sha256').update(id, 'utf8').digest('hex'));
  return {
    async create(session) {
      const ttl = session.expiresAt - clock();
      if (ttl <= 0) throw new RangeError('a session must expire in the future');
      const id = random(32).toString('base64url');
      const stored = await viaRedis('admin session write', () => redis.set(key(id), JSON.stringify(record.parse(session)), 'PX', ttl, 'NX'));
      if (stored !== 'OK') throw new Error('session id collision');
      return id;
    },
    async get(id) {
      if (!SESSION_ID.test(id)) return null;
      const raw = await viaRedis('admin session read', () => redis.get(key(id)));
      if (raw === null) return null;
      const parsed = record.safeParse(parseJson(raw));
      if (!parsed.success || parsed.data.expiresAt <= clock()) return null;
      return parsed.data;
    },
    async delete(id) {
      if (SESSION_ID.test(id)) await viaRedis('admin session delete', () => redis.del(key(id)));
    },
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
