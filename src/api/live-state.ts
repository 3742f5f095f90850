import type { Queue } from 'bullmq';
import type { QuotaSnapshot } from '../app/snapshot.js';
import type { Exclusion } from '../app/stores.js';
import type { TenantStatus } from '../app/usage.js';
import { redisFailure } from '../adapters/redis/errors.js';
import { QuotaflowError } from '../errors.js';
import type { System } from '../system.js';

export const QUEUE_STATES = ['waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed', 'waiting-children'] as const;

/** What the system looks like right now: the quota snapshot, stored exclusions, queue depth, tenants' usage and cost. */
export interface LiveState extends QuotaSnapshot {
  exclusions: Array<Exclusion & { createdAt: Date }>;
  queue: Record<string, number>;
  /** every tenant of the fleet: usage today and this month, its limits with what is used, its budget */
  tenants: TenantStatus[];
  /** what each tenant has cost to date (picodollars), tenants the fleet no longer has included */
  tenantCosts: ReadonlyMap<string, bigint>;
}

/**
 * Runs a read of the live state: a failure already wrapped (Postgres, a
 * known Redis failure) passes unchanged, anything else is a Redis or
 * BullMQ failure (a closed stream, a timeout) and becomes a
 * DependencyError, so a scrape answers 503 with Retry-After, not 500.
 */
export async function liveRead<T>(what: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    throw err instanceof QuotaflowError ? err : redisFailure(what, err);
  }
}

/** Reads the live state from Postgres, Redis and BullMQ (one scrape or dashboard refresh). */
export async function readLiveState(sys: System, queue: Queue): Promise<LiveState> {
  const [snapshot, exclusions, queueCounts, tenantCosts] = await Promise.all([
    liveRead('quota snapshot', () => sys.snapshot()),
    liveRead('exclusions read', () => sys.stores.exclusions.active(new Date())),
    liveRead('queue counts', () => queue.getJobCounts(...QUEUE_STATES)),
    liveRead('tenant costs', () => sys.usage.costs()),
  ]);
  const tenants = await liveRead('tenant usage', () => sys.usage.tenants(snapshot.fleet.fleet.tenants));
  return { ...snapshot, exclusions, queue: queueCounts, tenants, tenantCosts };
}
