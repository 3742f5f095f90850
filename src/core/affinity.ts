import type { FleetIndex } from './fleet-index.js';
import type { CandidateGroup } from './lease-plan.js';
import type { Affinity } from './request.js';

/**
 * Context caches and uploaded files belong to one project, so a request may
 * be pinned to a project or a key: only those candidates are offered (and
 * the job waits, as usual, while they are full). `'conversation'` is a
 * preference instead: a conversation stays on the project that served its
 * last turn (Gemini caches repeated prompt prefixes per project) while that
 * project has room, then moves on.
 */
export function pinnedKeys(fleet: FleetIndex, affinity: Affinity | undefined): ((keyId: string) => boolean) | undefined {
  if (affinity === undefined || affinity === 'conversation') return undefined;
  if ('keyId' in affinity) return (keyId) => keyId === affinity.keyId;
  return (keyId) => fleet.key(keyId)?.projectId === affinity.project;
}

/** Why a pinned request cannot be served by the tenant's keys at all. */
export function describePin(affinity: Exclude<Affinity, 'conversation'>, tenantId: string): string {
  return 'keyId' in affinity
    ? `affinity names key "${affinity.keyId}", which tenant "${tenantId}" may not use (or which is disabled)`
    : `affinity names project "${affinity.project}", which no enabled key tenant "${tenantId}" may use belongs to`;
}

/** Within each group, the candidates of `projectId` come first (as a group of their own, just before the rest). */
export function preferProject(groups: readonly CandidateGroup[], projectId: string): CandidateGroup[] {
  return groups.flatMap((g) => {
    const mine = g.candidates.filter((c) => c.projectId === projectId);
    if (mine.length === 0 || mine.length === g.candidates.length) return [g];
    return [
      { ...g, id: `${g.id}|affinity`, candidates: mine },
      { ...g, candidates: g.candidates.filter((c) => c.projectId !== projectId) },
    ];
  });
}
