import type { Queue } from 'bullmq';
import type { QuotaSnapshot } from '../app/snapshot.js';
import type { Exclusion } from '../app/stores.js';
import type { TenantStatus } from '../app/usage.js';
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

/** Reads the live state from Postgres, Redis and BullMQ (one scrape or dashboard refresh). */
export async function readLiveState(sys: System, queue: Queue): Promise<LiveState> {
  const [snapshot, exclusions, queueCounts, tenantCosts] = await Promise.all([sys.snapshot(), sys.stores.exclusions.active(new Date()), queue.getJobCounts(...QUEUE_STATES), sys.usage.costs()]);
  const tenants = await sys.usage.tenants(snapshot.fleet.fleet.tenants);
  return { ...snapshot, exclusions, queue: queueCounts, tenants, tenantCosts };
}
