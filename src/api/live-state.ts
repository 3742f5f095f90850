import type { Queue } from 'bullmq';
import { activeExclusions, type Exclusion } from '../adapters/postgres/exclusions-repo.js';
import { rpdUsage } from '../adapters/postgres/ledger-repo.js';
import { quotaStatus, type ScopeStatus } from '../app/quota-status.js';
import { buildFleetIndex, type FleetIndex } from '../core/fleet-index.js';
import type { System } from '../system.js';

export const QUEUE_STATES = ['waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed', 'waiting-children'] as const;

export interface BreakerState {
  model: string;
  state: 'closed' | 'open' | 'half_open';
  fails: number;
  openMs: number | null;
}

/** What the system looks like right now: the fleet, per-scope quota, breakers, exclusions, queue depth. */
export interface LiveState {
  at: number;
  day: string;
  fleet: FleetIndex;
  scopes: ScopeStatus[];
  breakers: BreakerState[];
  exclusions: Array<Exclusion & { createdAt: Date }>;
  queue: Record<string, number>;
}

/** Every model the fleet may use: the default chain and every tenant's chain. */
export function fleetModels(fleet: FleetIndex): string[] {
  return [...new Set([...fleet.fleet.models, ...fleet.fleet.tenants.flatMap((t) => t.models ?? [])])];
}

/** Reads the live state from Postgres, Redis and BullMQ (one scrape or dashboard refresh). */
export async function readLiveState(sys: System, queue: Queue): Promise<LiveState> {
  const now = Date.now();
  const fleet = buildFleetIndex(await sys.fleetSource.load());
  const day = sys.day.dayId(now);
  const used = new Map((await rpdUsage(sys.db, day)).map((r) => [`${r.projectId}|${r.model}`, r.used]));
  const [scopes, breakers, exclusions, counts] = await Promise.all([
    quotaStatus(fleet, sys.limiter, used),
    Promise.all(fleetModels(fleet).map(async (model) => ({ model, ...(await sys.limiter.breaker(model)) }))),
    activeExclusions(sys.db, new Date(now)),
    queue.getJobCounts(...QUEUE_STATES),
  ]);
  return { at: now, day, fleet, scopes, breakers, exclusions, queue: counts };
}
