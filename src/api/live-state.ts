import type { Queue } from 'bullmq';
import type { QuotaSnapshot } from '../app/snapshot.js';
import type { Exclusion } from '../app/stores.js';
import type { System } from '../system.js';

export const QUEUE_STATES = ['waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed', 'waiting-children'] as const;

/** What the system looks like right now: the quota snapshot, stored exclusions, queue depth. */
export interface LiveState extends QuotaSnapshot {
  exclusions: Array<Exclusion & { createdAt: Date }>;
  queue: Record<string, number>;
}

/** Reads the live state from Postgres, Redis and BullMQ (one scrape or dashboard refresh). */
export async function readLiveState(sys: System, queue: Queue): Promise<LiveState> {
  const [snapshot, exclusions, queueCounts] = await Promise.all([sys.snapshot(), sys.stores.exclusions.active(new Date()), queue.getJobCounts(...QUEUE_STATES)]);
  return { ...snapshot, exclusions, queue: queueCounts };
}
