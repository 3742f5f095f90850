import { Redis, type RedisOptions } from 'ioredis';

/**
 * One ioredis connection. BullMQ needs `maxRetriesPerRequest: null` on the
 * connections its workers block on; we use the same for ours so a Redis
 * restart stalls commands instead of failing them.
 */
export function connectRedis(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(times * 100, 2_000),
    ...options,
  });
}

/** Answers whether a Redis server is reachable at url (one PING, short timeout). */
export async function redisAnswers(url: string, timeoutMs = 1_000): Promise<boolean> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: timeoutMs });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}
