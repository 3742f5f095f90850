import type { Redis } from 'ioredis';
import { migrateDatabase, openDatabase, PGLITE_WARNING, type Database } from './adapters/postgres/db.js';
import { activeExclusions, upsertExclusion } from './adapters/postgres/exclusions-repo.js';
import { disableKey, fleetVersion, loadFleet, loadKeySecrets } from './adapters/postgres/fleet-repo.js';
import { refundRpd, reserveRpd } from './adapters/postgres/ledger-repo.js';
import { recordLearnedLimit } from './adapters/postgres/limits-repo.js';
import { recordUsage } from './adapters/postgres/usage-repo.js';
import { connectRedis } from './adapters/redis/connection.js';
import { createRedisLimiter, type Limiter } from './adapters/redis/limiter.js';
import type { FleetSource } from './app/fleet-cache.js';
import type { FleetRecords, Ledger, UsageEvent } from './app/ports.js';
import type { Config } from './config.js';
import { fixedLengthDay, pacificDay, type DayClock } from './core/pacific-day.js';
import { QuotaflowError } from './errors.js';
import type { Logger } from './logger.js';

/**
 * The adapters every entrypoint needs, opened once and wired together: the
 * one place that knows Postgres and Redis implement the app's ports.
 */
export interface System {
  config: Config;
  logger: Logger;
  db: Database;
  dbKind: 'postgres' | 'pglite';
  redis: Redis;
  limiter: Limiter;
  ledger: Ledger;
  records: FleetRecords;
  fleetSource: FleetSource;
  day: DayClock;
  writeUsage(events: UsageEvent[]): Promise<void>;
  /** publishes the stored fleet version so every worker reloads within a poll */
  announce(): Promise<void>;
  /** puts day exclusions from Postgres back into Redis (after a Redis restart, at start) */
  restoreBlocks(): Promise<number>;
  close(): Promise<void>;
}

export function fleetVersionKey(prefix: string): string {
  return `${prefix}:fleet:version`;
}

export async function openSystem(config: Config, logger: Logger, opts: { migrate?: boolean } = {}): Promise<System> {
  const handle = await openDatabase({ ...(config.databaseUrl ? { databaseUrl: config.databaseUrl } : {}), dataDir: config.dataDir });
  if (handle.kind === 'pglite') logger.warn(PGLITE_WARNING);
  if (opts.migrate !== false) await migrateDatabase(handle);
  const { db } = handle;
  const redis = connectRedis(config.redisUrl);
  redis.on('error', (err: Error) => logger.warn({ err: err.message }, 'redis connection error'));
  const limiter = createRedisLimiter(redis, config.prefix);
  const day = config.dayLengthMs ? fixedLengthDay(config.dayLengthMs) : pacificDay;
  const versionKey = fleetVersionKey(config.prefix);

  const announce = async (): Promise<void> => {
    const v = await fleetVersion(db);
    await redis.set(versionKey, v);
    await redis.publish(versionKey, v);
  };

  return {
    config,
    logger,
    db,
    dbKind: handle.kind,
    redis,
    limiter,
    day,
    ledger: {
      reserve: (s) => reserveRpd(db, s),
      refund: (s) => refundRpd(db, s),
    },
    records: {
      excludeScope: (e) => upsertExclusion(db, e),
      disableKey: (keyId, reason) => disableKey(db, keyId, reason, 'system'),
      learnLimit: (l) => recordLearnedLimit(db, l),
    },
    fleetSource: {
      load: () => loadFleet(db),
      loadSecrets: () => {
        if (!config.secretKey) throw new QuotaflowError('config_invalid', 'QUOTAFLOW_SECRET is not set: stored keys cannot be decrypted');
        return loadKeySecrets(db, config.secretKey);
      },
      announcedVersion: () => redis.get(versionKey),
      storedVersion: () => fleetVersion(db),
      async subscribe(onChange) {
        const sub = redis.duplicate();
        sub.on('error', () => undefined);
        sub.on('message', () => onChange());
        await sub.subscribe(versionKey);
        return async () => {
          await sub.quit().catch(() => sub.disconnect());
        };
      },
    },
    writeUsage: (events) => recordUsage(db, events),
    announce,
    async restoreBlocks() {
      const now = Date.now();
      const rows = await activeExclusions(db, new Date(now));
      for (const r of rows) {
        const ttl = r.until ? r.until.getTime() - now : 0;
        if (r.until && ttl <= 0) continue;
        await limiter.block(`${r.projectId}|${r.model}`, 'day', ttl, r.reason);
      }
      return rows.length;
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
      await handle.close();
    },
  };
}
