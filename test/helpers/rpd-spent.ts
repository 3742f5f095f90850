import type { Redis } from 'ioredis';
import type postgres from 'postgres';
import { redisKeys } from '../../src/adapters/redis/keys.js';
import { scopeOf } from '../../src/core/scope.js';

export type ScopeCounts = Record<string, number>;

/**
 * Requests of the day per `project|model`, as the ledger and the pools tell
 * them: `reserved` is what rpd_ledger holds (blocks reserved), `spent` is
 * reserved minus what each day's pool in Redis still holds — the figure that
 * must equal the calls upstream counted.
 */
export async function rpdCounts(sql: postgres.Sql, redis: Pick<Redis, 'get'>, prefix: string): Promise<{ reserved: ScopeCounts; spent: ScopeCounts; pooled: ScopeCounts }> {
  const keys = redisKeys(prefix);
  const rows = await sql<Array<{ project_id: string; model: string; day: string; used: number }>>`select project_id, model, day, used from rpd_ledger`;
  const reserved: ScopeCounts = {};
  const spent: ScopeCounts = {};
  const pooled: ScopeCounts = {};
  for (const r of rows) {
    const k = `${r.project_id}|${r.model}`;
    const pool = Math.max(0, Number((await redis.get(keys.scope(scopeOf(r.project_id, r.model)).rpdPool(r.day))) ?? 0));
    reserved[k] = (reserved[k] ?? 0) + r.used;
    pooled[k] = (pooled[k] ?? 0) + pool;
    spent[k] = (spent[k] ?? 0) + r.used - pool;
  }
  const nonZero = (c: ScopeCounts): ScopeCounts => Object.fromEntries(Object.entries(c).filter(([, n]) => n > 0));
  return { reserved: nonZero(reserved), spent: nonZero(spent), pooled: nonZero(pooled) };
}
