import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { RedisClient as Redis } from './connection.js';
import { viaRedis } from './errors.js';
import type { RedisKeys } from './keys.js';

/** A worker counts as alive while its last heartbeat is younger than this. */
export const WORKER_ALIVE_MS = 15_000;
const BEAT_MS = 5_000;

export function workerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

/**
 * Each generation worker notes itself in a sorted set every few seconds, so
 * `status` and producers can tell whether any worker is running (a job
 * enqueued with none would only wait). Entries of dead workers age out.
 */
export function startHeartbeat(redis: Redis, keys: RedisKeys, id: string, info: { concurrency: number }): { stop(): Promise<void> } {
  const member = `${id}|${info.concurrency}`;
  const beat = async (): Promise<void> => {
    const now = Date.now();
    await redis.zadd(keys.workers, now, member);
    await redis.zremrangebyscore(keys.workers, '-inf', now - 10 * WORKER_ALIVE_MS);
  };
  const timer = setInterval(() => void beat().catch(() => undefined), BEAT_MS);
  timer.unref();
  void beat().catch(() => undefined);
  return {
    async stop() {
      clearInterval(timer);
      await redis.zrem(keys.workers, member).catch(() => undefined);
    },
  };
}

/** Workers seen within WORKER_ALIVE_MS: id and concurrency. */
export async function liveWorkers(redis: Redis, keys: RedisKeys, now = Date.now()): Promise<Array<{ id: string; concurrency: number; seenMsAgo: number }>> {
  const rows = await viaRedis('worker list', () => redis.zrangebyscore(keys.workers, now - WORKER_ALIVE_MS, '+inf', 'WITHSCORES'));
  const out: Array<{ id: string; concurrency: number; seenMsAgo: number }> = [];
  for (let i = 0; i + 1 < rows.length; i += 2) {
    const [id = '', c = '0'] = (rows[i] ?? '').split('|');
    out.push({ id, concurrency: Number(c), seenMsAgo: now - Number(rows[i + 1]) });
  }
  return out;
}
