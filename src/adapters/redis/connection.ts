import { readFileSync } from 'node:fs';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { RedisSettings } from '../../config.js';
import { ConfigError, DependencyError, errorMessage } from '../../errors.js';

/** A connection to one server (possibly the master of a Sentinel group) or to a Redis Cluster. */
export type RedisClient = Redis | Cluster;

/**
 * What a call site needs when Redis is slow or gone.
 * - `blocking` (workers, BullMQ Workers and QueueEvents, subscribers): commands
 *   wait out a Redis restart instead of failing; BullMQ requires
 *   `maxRetriesPerRequest: null` on every connection it blocks on.
 * - `fail-fast` (the HTTP API, one-off CLI commands): a command fails within
 *   its timeout, so a request or a command reports the outage instead of
 *   hanging. Never for a connection BullMQ blocks on (XREAD, BZPOPMIN).
 */
export type ConnectionProfile = { kind: 'blocking' } | { kind: 'fail-fast'; commandTimeoutMs: number; connectTimeoutMs: number };

export interface ConnectOptions {
  /** default: blocking */
  profile?: ConnectionProfile;
  /** CLIENT SETNAME, to tell the processes apart in CLIENT LIST */
  connectionName?: string;
  /** connect on the first command (or connect()) instead of at once */
  lazyConnect?: boolean;
  /**
   * send the commands issued in one tick as one write (ioredis auto-pipelining):
   * concurrent jobs' scripts share a syscall. Never on a connection that blocks
   * (BullMQ's, subscribers): a blocked command would hold the rest back.
   */
  autoPipelining?: boolean;
}

const reconnectDelay = (times: number): number => Math.min(times * 100, 2_000);

/**
 * TLS towards servers, cluster nodes and sentinels alike. The CA bundle is
 * read here, when connecting, so config stays free of file access and a
 * missing file is reported when it matters.
 */
function tlsOptions(tls: RedisSettings['tls']): TlsOptions | undefined {
  if (!tls) return undefined;
  const options: TlsOptions = {};
  if (tls.caFile !== undefined) {
    try {
      options.ca = readFileSync(tls.caFile);
    } catch (err) {
      throw new ConfigError(`REDIS_TLS_CA_FILE: cannot read ${tls.caFile}: ${errorMessage(err)}`);
    }
  }
  if (tls.insecure) options.rejectUnauthorized = false;
  return options;
}

/** Options every connection to a server gets, whatever the mode. */
function serverOptions(settings: RedisSettings, options: ConnectOptions): Omit<RedisOptions, 'lazyConnect' | 'retryStrategy' | 'enableOfflineQueue'> {
  const profile = options.profile ?? { kind: 'blocking' };
  const tls = tlsOptions(settings.tls);
  const { username, password } = settings.auth ?? {};
  return {
    enableReadyCheck: true,
    ...(profile.kind === 'blocking'
      ? { maxRetriesPerRequest: null }
      : { maxRetriesPerRequest: 1, commandTimeout: profile.commandTimeoutMs, connectTimeout: profile.connectTimeoutMs }),
    ...(tls ? { tls } : {}),
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(options.connectionName ? { connectionName: options.connectionName } : {}),
  };
}

function clusterOptions(settings: RedisSettings, options: ConnectOptions): ClusterOptions {
  const server = serverOptions(settings, options);
  return {
    redisOptions: server,
    enableReadyCheck: true,
    // replicas may lag: admission and usage reads must see the latest window
    scaleReads: 'master',
    ...(options.autoPipelining ? { enableAutoPipelining: true } : {}),
    enableOfflineQueue: (options.profile?.kind ?? 'blocking') === 'blocking',
    clusterRetryStrategy: reconnectDelay,
    // node certificates name hosts, not addresses: connect by the name so TLS verifies it
    ...(server.tls ? { dnsLookup: (address: string, callback: (err: null, address: string) => void) => callback(null, address) } : {}),
    ...(options.lazyConnect ? { lazyConnect: true } : {}),
  };
}

/** @deprecated the old single-server call; pass config.redis instead */
export function connectRedis(url: string, options?: RedisOptions): Redis;
/** Opens a connection in the settings' mode, shaped for the call site (see ConnectionProfile). */
export function connectRedis(settings: RedisSettings, options?: ConnectOptions): RedisClient;
export function connectRedis(target: RedisSettings | string, options: ConnectOptions & RedisOptions = {}): RedisClient {
  if (typeof target === 'string') {
    const { profile: _ignored, ...ioredis } = options;
    return new Redis(target, { maxRetriesPerRequest: null, enableReadyCheck: true, retryStrategy: reconnectDelay, ...ioredis });
  }
  if (target.mode === 'cluster') return new Cluster(target.nodes.map((n) => ({ host: n.host, port: n.port })), clusterOptions(target, options));
  const server: RedisOptions = {
    ...serverOptions(target, options),
    retryStrategy: reconnectDelay,
    ...(options.autoPipelining ? { enableAutoPipelining: true } : {}),
    ...(options.profile?.kind === 'fail-fast' ? { enableOfflineQueue: false } : {}),
    ...(options.lazyConnect ? { lazyConnect: true } : {}),
  };
  if (target.mode === 'single') return new Redis(target.url, server);
  return new Redis({
    ...server,
    sentinels: target.sentinels.map((n) => ({ host: n.host, port: n.port })),
    name: target.name,
    // the same TLS towards the sentinels and towards the master they name
    ...(server.tls ? { enableTLSForSentinelMode: true, sentinelTLS: server.tls } : {}),
  });
}

/**
 * The key prefix for a connection mode. A Lua script on a Redis Cluster may
 * only touch keys of one hash slot, and admission touches the global, model,
 * scope and rotation keys of every candidate in one call (BullMQ's scripts
 * likewise touch a queue's keys together with a job's). So on a cluster every
 * key of quotaflow and of its queues must hash alike: the prefix becomes a
 * hash tag (`{quotaflow}`), and Redis hashes only what is between the braces.
 * That puts all of one deployment's keys on one shard. Other modes keep the
 * prefix as configured, so existing keys keep their names. Idempotent.
 */
export function hashTagPrefix(prefix: string, mode: RedisSettings['mode']): string {
  if (mode !== 'cluster') return prefix;
  // Redis's rule: the first '{' and the first '}' after it, with something between
  const open = prefix.indexOf('{');
  const close = open < 0 ? -1 : prefix.indexOf('}', open + 1);
  return close > open + 1 ? prefix : `{${prefix}}`;
}

/** What an operator should hear once at start about these settings (never a credential). */
export function redisWarnings(settings: RedisSettings): string[] {
  return settings.tls?.insecure
    ? ['REDIS_TLS_INSECURE is on: the Redis server certificate is not verified, so anyone on the network path could impersonate the server']
    : [];
}

/** Resolves once the connection is ready; rejects with a DependencyError naming where Redis was expected. */
export async function whenRedisReady(redis: RedisClient, display: string, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    let lastError = '';
    const onError = (err: Error): void => void (lastError = `: ${err.message}`);
    const done = (err?: Error): void => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('error', onError);
      redis.off('end', onEnd);
      if (err) reject(err);
      else resolve();
    };
    const onReady = (): void => done();
    const onEnd = (): void => done(new DependencyError(`the Redis connection to ${display} was closed before it was ready${lastError}`));
    const timer = setTimeout(() => done(new DependencyError(`Redis at ${display} was not ready within ${timeoutMs} ms${lastError}`)), timeoutMs);
    redis.on('ready', onReady);
    redis.on('error', onError);
    redis.on('end', onEnd);
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
