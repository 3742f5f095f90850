import type { RedisClient as Redis } from './connection.js';
import type { CounterRestore, TenantCounterPort } from '../../app/usage.js';
import type { TenantCounters } from '../../app/usage-report.js';
import { WINDOW_DIMENSIONS, windowRecord, type WindowValues } from '../../core/dimensions.js';
import { viaRedis } from './errors.js';
import type { RedisKeys } from './keys.js';

/** How long the scripts keep a day and a month counter (see admit.lua and settle.lua). */
const DAY_TTL_MS = 3 * 86_400_000;
const MONTH_TTL_MS = 40 * 86_400_000;

const num = (v: string | null | undefined): number => {
  const n = Number(v ?? 0);
  return Number.isFinite(n) ? n : 0;
};

/**
 * Reads tenants' live counters (the keys admit.lua and settle.lua keep) in
 * a few pipelined round trips whatever the number of tenants, and puts day
 * and month counters back after Redis lost them — only fields that are
 * absent, so a live counter is never lowered.
 */
export function createTenantCounters(redis: Redis, keys: RedisKeys, opts: { windowMs: number }): TenantCounterPort {
  const redisNow = async (): Promise<number> => {
    const [s, us] = await redis.time();
    return Number(s) * 1000 + Math.floor(Number(us) / 1000);
  };

  /** Each tenant's live window: the reservations not yet older than the window (entries an admission has not trimmed yet are left out). */
  const windows = async (tenantIds: readonly string[]): Promise<WindowValues[]> => {
    const cutoff = (await redisNow()) - opts.windowMs;
    const live = await redis.pipeline(tenantIds.map((id) => ['zrangebyscore', keys.tenant(id).window, `(${cutoff}`, '+inf'])).exec();
    const ids = tenantIds.map((_, i) => {
      const v = live?.[i]?.[1];
      return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
    });
    const withEntries = tenantIds.flatMap((id, i) => ((ids[i]?.length ?? 0) > 0 ? [{ i, key: keys.tenant(id).costs }] : []));
    const costs = withEntries.length ? await redis.pipeline(withEntries.map((w) => ['hmget', w.key, ...(ids[w.i] ?? [])])).exec() : [];
    const out = tenantIds.map(() => windowRecord([]));
    withEntries.forEach((w, j) => {
      const totals = WINDOW_DIMENSIONS.map(() => 0);
      const values = costs?.[j]?.[1];
      for (const v of Array.isArray(values) ? values : []) {
        String(v ?? '')
          .split(',')
          .forEach((c, d) => (totals[d] = (totals[d] ?? 0) + num(c)));
      }
      out[w.i] = windowRecord(totals);
    });
    return out;
  };

  return {
    read: (tenantIds: readonly string[], dayId: string, monthId: string): Promise<Map<string, TenantCounters>> =>
      viaRedis('tenant counter read', async () => {
        if (tenantIds.length === 0) return new Map();
        const pipe = redis.pipeline();
        for (const id of tenantIds) {
          const k = keys.tenant(id);
          pipe.hmget(k.day(dayId), 'req', 'tok', 'creq', 'ctok');
          pipe.hget(k.month(monthId), 'cost');
          pipe.hmget(k.outstanding, '_n', '_b');
        }
        const [replies, window] = await Promise.all([pipe.exec(), windows(tenantIds)]);
        const at = (i: number): Array<string | null> => {
          const v = replies?.[i]?.[1];
          return Array.isArray(v) ? v.map((x) => (typeof x === 'string' ? x : null)) : [typeof v === 'string' ? v : null];
        };
        return new Map(
          tenantIds.map((id, t) => {
            const [req, tok, creq, ctok] = at(3 * t).map(num);
            const [jobs, bytes] = at(3 * t + 2).map(num);
            const counters: TenantCounters = {
              window: window[t] ?? windowRecord([]),
              day: { req: req ?? 0, tok: tok ?? 0, creq: creq ?? 0, ctok: ctok ?? 0 },
              monthCostMicros: num(at(3 * t + 1)[0]),
              queued: { jobs: jobs ?? 0, bytes: bytes ?? 0 },
            };
            return [id, counters];
          }),
        );
      }),
    /** Sets each counter field only where it is absent (HSETNX); answers how many fields were set. */
    restore: (entries: readonly CounterRestore[]): Promise<number> =>
      viaRedis('tenant counter restore', async () => {
        if (entries.length === 0) return 0;
        const pipe = redis.pipeline();
        const sets: number[] = [];
        const set = (key: string, field: string, value: number): void => {
          if (value <= 0) return;
          sets.push(pipe.length);
          pipe.hsetnx(key, field, value);
        };
        for (const e of entries) {
          const k = keys.tenant(e.tenantId);
          for (const [field, value] of Object.entries(e.day)) set(k.day(e.dayId), field, value);
          pipe.pexpire(k.day(e.dayId), DAY_TTL_MS, 'NX');
          set(k.month(e.monthId), 'cost', e.monthCostMicros);
          pipe.pexpire(k.month(e.monthId), MONTH_TTL_MS, 'NX');
        }
        const replies = (await pipe.exec()) ?? [];
        return sets.filter((i) => replies[i]?.[1] === 1).length;
      }),
  };
}
