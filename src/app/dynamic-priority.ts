import { HEALTH, keyHealth, nextDemotions, type OutcomeBucket } from '../core/key-health.js';
import type { Logger } from '../logger.js';

export interface DynamicPriorityDeps {
  /** per-key outcome counts since a moment (usage events) */
  buckets(since: Date): Promise<OutcomeBucket[]>;
  demoted(): Promise<string[]>;
  /** stores the set; true when it changed (and the fleet version moved) */
  save(ids: string[]): Promise<boolean>;
  announce(): Promise<void>;
  clock: () => number;
  logger: Logger;
}

/**
 * One evaluation of dynamic priority, run by the maintenance worker:
 * demotes keys whose decayed success rate fell below 80 %, restores those
 * back above 95 %, and tells the workers when anything changed.
 */
export async function evaluateKeyPriorities(deps: DynamicPriorityDeps): Promise<{ demoted: string[]; restored: string[] }> {
  const now = deps.clock();
  // six half-lives back: older calls weigh under 2 %
  const buckets = await deps.buckets(new Date(now - 6 * HEALTH.halfLifeMs));
  const before = new Set(await deps.demoted());
  const after = nextDemotions(before, keyHealth(buckets, now));
  const demoted = [...after].filter((k) => !before.has(k));
  const restored = [...before].filter((k) => !after.has(k));
  if (demoted.length || restored.length) {
    if (await deps.save([...after])) await deps.announce();
    for (const k of demoted) deps.logger.warn({ keyId: k }, 'key demoted: its success rate fell below 80%');
    for (const k of restored) deps.logger.info({ keyId: k }, 'key restored: its success rate is back above 95%');
  }
  return { demoted, restored };
}
