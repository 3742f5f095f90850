import type { ChainableCommander } from 'ioredis';
import type { RedisClient as Redis } from '../../adapters/redis/connection.js';
import type { RedisKeys } from '../../adapters/redis/keys.js';
import type { ThrottleStore, WindowCount } from './auth-throttle.js';

/**
 * Attempt counters in Redis, one key per (surface, subject) that expires
 * with its window, shared by every API process. Each operation is one
 * MULTI, so a window is opened, counted and read atomically: `SET … PX NX`
 * opens a window only where none is, INCR/DECR keep its expiry.
 *
 * A give-back that arrives after its window ended opens the next window one
 * lower; a success in flight at the boundary is worth at most one extra
 * attempt, in one window.
 */
export function redisThrottleStore(redis: Redis, keys: RedisKeys, surface: string, windowMs: number): ThrottleStore {
  const key = (subject: string): string => keys.authFailures(surface, subject);
  return {
    async read(subject) {
      const r = await run(redis.multi().get(key(subject)).pttl(key(subject)));
      return windowCount(r[0] === null ? 0 : Number(r[0]), r[1], windowMs);
    },
    async add(subject) {
      const k = key(subject);
      const r = await run(redis.multi().set(k, 0, 'PX', windowMs, 'NX').incr(k).pttl(k));
      return windowCount(r[1], r[2], windowMs);
    },
    async giveBack(subject) {
      const k = key(subject);
      await run(redis.multi().set(k, 0, 'PX', windowMs, 'NX').decr(k));
    },
  };
}

/** Runs a MULTI; its replies, or the first error among them. */
async function run(multi: ChainableCommander): Promise<unknown[]> {
  const replies = await multi.exec();
  if (replies === null) throw new Error('Redis transaction was discarded');
  return replies.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}

function windowCount(count: unknown, pttl: unknown, windowMs: number): WindowCount {
  const n = typeof count === 'number' ? count : Number(count);
  if (!Number.isFinite(n)) throw new Error(`attempt counter is not a number: ${String(count)}`);
  // -1 (no expiry) cannot happen for keys written here; -2 (gone) means a fresh window
  const msLeft = typeof pttl === 'number' && pttl > 0 ? pttl : windowMs;
  return { count: n, msLeft };
}
