import type { RedisClient as Redis } from './adapters/redis/connection.js';
import { sql } from 'drizzle-orm';
import { migrateDatabase, openDatabase, PGLITE_WARNING } from './adapters/postgres/db.js';
import { createPostgresStores } from './adapters/postgres/stores.js';
import { connectRedis, hashTagPrefix, redisWarnings, whenRedisReady, type ConnectionProfile } from './adapters/redis/connection.js';
import { viaRedis } from './adapters/redis/errors.js';
import { redisKeys, type RedisKeys } from './adapters/redis/keys.js';
import { createRedisLimiter, WINDOW_MS } from './adapters/redis/limiter.js';
import { createTenantCounters } from './adapters/redis/tenant-counters.js';
import { directoryEntries, publishTenantDirectory } from './adapters/redis/tenant-directory.js';
import { createAdmin, type Admin } from './app/admin.js';
import type { FleetRecords, FleetSource, Ledger, Limiter } from './app/ports.js';
import { fleetScopes, quotaSnapshot, type QuotaSnapshot } from './app/snapshot.js';
import { loadDiscovery, saveDiscovery, type StoredDiscovery } from './adapters/postgres/discovery-repo.js';
import { viaPostgres } from './adapters/postgres/errors.js';
import { createDiscoveryStates } from './adapters/redis/discovery-store.js';
import { DEFAULT_DISCOVERY_PARAMS } from './core/discovery.js';
import { WINDOW_DIMENSIONS } from './core/dimensions.js';
import type { DemotionStore, ExclusionStore, FleetStore, UsageStore } from './app/stores.js';
import { createUsage, type Usage } from './app/usage.js';
import { environmentLookup, type Config } from './config.js';
import { DEFAULT_BREAKER, type BreakerConfig } from './core/breaker.js';
import { buildFleetIndex, type FleetIndex } from './core/fleet-index.js';
import type { Fleet } from './core/types.js';
import { readCatalogFile } from './adapters/catalog/catalog-files.js';
import { fixedLengthDay, pacificDay, type DayClock } from './core/pacific-day.js';
import { scopeOf } from './core/scope.js';
import { errorMessage } from './errors.js';
import type { Logger } from './logger.js';

/**
 * The composition root: the adapters every entrypoint needs, opened once and
 * wired to the app's ports and use cases. The only place that knows Postgres
 * and Redis implement them; entrypoints (workers, API, CLI) use what this
 * returns and never a database handle.
 */
export interface System {
  config: Config;
  logger: Logger;
  dbKind: 'postgres' | 'pglite';
  /** the connection BullMQ queues and the metrics reader share */
  redis: Redis;
  /** the key and queue prefix: QUOTAFLOW_PREFIX, hash-tagged (`{…}`) on Redis Cluster so every key shares one slot */
  prefix: string;
  /** a new connection with the process's profile (BullMQ workers and readers need their own) */
  connect(profile?: ConnectionProfile): Redis;
  keys: RedisKeys;
  limiter: Limiter;
  ledger: Ledger;
  records: FleetRecords;
  fleetSource: FleetSource;
  stores: { fleet: FleetStore; exclusions: ExclusionStore; usage: UsageStore; demotions: DemotionStore };
  admin: Admin;
  /** tenants' usage and cost: reports, standing against limits and budget */
  usage: Usage;
  breaker: BreakerConfig;
  day: DayClock;
  /** the stored fleet, indexed */
  loadFleet(): Promise<FleetIndex>;
  /** quota, blocks and breakers of every scope right now */
  snapshot(): Promise<QuotaSnapshot>;
  /** whether Redis and Postgres answer ('ok' or what went wrong) */
  ping(): Promise<{ redis: string; postgres: string }>;
  /** publishes the stored fleet version so every worker reloads within a poll */
  announce(): Promise<void>;
  /** puts day exclusions from Postgres back into Redis (after a Redis restart, at start) */
  restoreBlocks(): Promise<number>;
  /** keeps the discovered limits (live in Redis) in Postgres; returns the rows that changed */
  syncDiscovery(): Promise<number>;
  /** puts discovered limits from Postgres back into Redis where Redis lost them (at start) */
  restoreDiscovery(): Promise<number>;
  /** puts tenants' day and month counters back from the stored daily totals where Redis has none (after a Redis restart, at start) */
  restoreTenantCounters(): Promise<number>;
  close(): Promise<void>;
}

/** Share of maxmemory past which Redis is reported not ready: writes (enqueues, admissions) are about to fail. */
const MEMORY_PRESSURE = 0.9;

/** Redis answers, and has room to write: a Redis near its maxmemory refuses writes with OOM. */
async function redisReady(redis: Redis): Promise<void> {
  await redis.ping();
  const info = await redis.info('memory');
  const field = (name: string): number => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? 0);
  const used = field('used_memory');
  const max = field('maxmemory');
  if (max > 0 && used / max >= MEMORY_PRESSURE) throw new Error(`memory pressure: ${Math.round((used / max) * 100)}% of maxmemory used`);
}

/** Applies the database migrations and closes the database: all `quotaflow migrate` needs (no Redis). */
export async function migrateOnly(config: Config, logger: Logger): Promise<'postgres' | 'pglite'> {
  const handle = await openDatabase({ ...(config.databaseUrl ? { databaseUrl: config.databaseUrl } : {}), dataDir: config.dataDir });
  try {
    if (handle.kind === 'pglite') logger.warn(PGLITE_WARNING);
    await migrateDatabase(handle);
    return handle.kind;
  } finally {
    await handle.close();
  }
}

/** How the HTTP API and one-off commands talk to Redis: fail within seconds instead of hanging on an outage. */
export const FAIL_FAST: ConnectionProfile = { kind: 'fail-fast', commandTimeoutMs: 3_000, connectTimeoutMs: 3_000 };

export async function openSystem(config: Config, logger: Logger, opts: { migrate?: boolean; profile?: ConnectionProfile; waitForRedis?: boolean } = {}): Promise<System> {
  const handle = await openDatabase({ ...(config.databaseUrl ? { databaseUrl: config.databaseUrl } : {}), dataDir: config.dataDir });
  if (handle.kind === 'pglite') logger.warn(PGLITE_WARNING);
  if (opts.migrate !== false) await migrateDatabase(handle);
  const pg = createPostgresStores(handle.db, { secretKey: config.secretKey, keyring: config.keyring });
  // the operator's catalog file sits under the fleet's own catalog section; read once, here
  const catalogFile = config.catalogFile ? await readCatalogFile(config.catalogFile) : null;
  for (const w of redisWarnings(config.redis)) logger.warn(w);
  const profile = opts.profile ?? { kind: 'blocking' };
  let lastRedisWarning = 0;
  const connect = (p: ConnectionProfile = profile, autoPipelining = false): Redis => {
    const c = connectRedis(config.redis, { profile: p, autoPipelining });
    // an outage would log once per reconnect attempt of every connection: once per 10 s is enough
    c.on('error', (err: Error) => {
      if (Date.now() - lastRedisWarning < 10_000) return;
      lastRedisWarning = Date.now();
      logger.warn({ err: err.message }, 'redis connection error');
    });
    return c;
  };
  // the shared connection never blocks: the commands concurrent jobs issue in one tick go out in one write
  const redis = connect(profile, true);
  // one-off commands: an unreachable Redis is a clear error within seconds, not a hang
  if (opts.waitForRedis) {
    await whenRedisReady(redis, config.redis.display, 5_000).catch(async (err: unknown) => {
      redis.disconnect();
      await handle.close();
      throw err;
    });
  }
  const prefix = hashTagPrefix(config.prefix, config.redis.mode);
  const keys = redisKeys(prefix);
  const breaker: BreakerConfig = { ...DEFAULT_BREAKER, failureThreshold: config.breaker.threshold, openMs: config.breaker.openMs };
  const limiter = createRedisLimiter(redis, keys, { breaker, windowMs: config.windowMs, discovery: { ...DEFAULT_DISCOVERY_PARAMS, quietMs: config.discoveryQuietMs } });
  const discoveryStates = createDiscoveryStates(redis, keys);
  const day = config.dayLengthMs ? fixedLengthDay(config.dayLengthMs) : pacificDay;
  const usage = createUsage({ store: pg.usage, counters: createTenantCounters(redis, keys, { windowMs: WINDOW_MS }), day, clock: Date.now });

  const announce = async (): Promise<void> => {
    const v = await pg.fleetSource.storedVersion();
    // the tenant directory first: a worker reloading on the announcement must never meet an older directory
    await publishTenantDirectory(redis, keys, directoryEntries((await pg.fleetSource.load()).tenants, config.producerCaps));
    await viaRedis('fleet announcement', async () => {
      await redis.set(keys.fleetVersion, v);
      await redis.publish(keys.fleetVersion, v);
    });
  };
  const loadStored = async (): Promise<Fleet> => ({ ...(await pg.fleetSource.load()), catalogFile });
  const loadFleet = async (): Promise<FleetIndex> => buildFleetIndex(await loadStored());
  const fleetSource: FleetSource = {
    ...pg.fleetSource,
    load: loadStored,
    announcedVersion: () => viaRedis('fleet version read', () => redis.get(keys.fleetVersion)),
    async subscribe(onChange) {
      // a subscriber waits out outages whatever the process's profile
      const sub = connect({ kind: 'blocking' });
      sub.on('error', () => undefined);
      sub.on('message', () => onChange());
      // SUBSCRIBE during the handshake would fail ioredis's ready check
      if (sub.status !== 'ready') await new Promise<void>((resolve) => sub.once('ready', () => resolve()));
      await sub.subscribe(keys.fleetVersion);
      return async () => {
        await sub.quit().catch(() => sub.disconnect());
      };
    },
  };
  const check = async (f: () => Promise<unknown>): Promise<string> => {
    try {
      await Promise.race([f(), new Promise((_, reject) => setTimeout(() => reject(new Error('timed out after 2 s')), 2_000).unref())]);
      return 'ok';
    } catch (err) {
      return `error: ${errorMessage(err)}`;
    }
  };

  return {
    config,
    logger,
    dbKind: handle.kind,
    redis,
    prefix,
    connect,
    keys,
    limiter,
    ledger: pg.ledger,
    records: pg.records,
    fleetSource,
    stores: { fleet: pg.fleet, exclusions: pg.exclusions, usage: pg.usage, demotions: pg.demotions },
    admin: createAdmin({ fleet: pg.fleet, exclusions: pg.exclusions, limiter, loadFleet, announce, secretKey: config.secretKey, resolveEnv: environmentLookup, clock: Date.now, logger }),
    usage,
    breaker,
    day,
    loadFleet,
    snapshot: () => quotaSnapshot({ fleet: loadFleet, limiter, ledger: pg.ledger, day, clock: Date.now }),
    ping: async () => {
      const [r, p] = await Promise.all([check(() => redisReady(redis)), check(() => handle.db.execute(sql`select 1`))]);
      return { redis: r, postgres: p };
    },
    announce,
    async restoreBlocks() {
      const now = Date.now();
      const rows = await pg.exclusions.active(new Date(now));
      for (const r of rows) {
        const ttl = r.until ? r.until.getTime() - now : 0;
        if (r.until && ttl <= 0) continue;
        await limiter.block(scopeOf(r.projectId, r.model), 'day', ttl, r.reason);
      }
      return rows.length;
    },
    async syncDiscovery() {
      const scopes = fleetScopes(await loadFleet());
      const rows: StoredDiscovery[] = [];
      for (const sc of scopes) {
        const states = await discoveryStates.read(sc.scope);
        for (const [dimension, state] of Object.entries(states)) rows.push({ projectId: sc.projectId, model: sc.model, dimension, state });
      }
      return rows.length ? viaPostgres('discovery save', () => saveDiscovery(handle.db, rows)) : 0;
    },
    async restoreDiscovery() {
      let restored = 0;
      for (const row of await viaPostgres('discovery load', () => loadDiscovery(handle.db))) {
        const dim = WINDOW_DIMENSIONS.find((d) => d === row.dimension);
        if (dim && (await discoveryStates.restore(scopeOf(row.projectId, row.model), dim, row.state))) restored++;
      }
      return restored;
    },
    restoreTenantCounters: () => usage.restoreCounters(),
    async close() {
      await redis.quit().catch(() => redis.disconnect());
      await handle.close();
    },
  };
}
