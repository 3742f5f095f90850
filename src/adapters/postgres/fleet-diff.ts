/**
 * Pure diffing for `applyFleet`: what to create, update, leave alone and
 * (when pruning) remove, by id. Kept free of the database so it is obvious.
 */
export interface KindCounts {
  created: number;
  updated: number;
  unchanged: number;
  removed: number;
}

export interface Diff<T> {
  create: T[];
  update: T[];
  unchanged: T[];
  /** ids present now that the desired state no longer names (only filled when pruning) */
  remove: string[];
}

/** Compares desired rows with existing ones by id; `same` decides whether an existing row needs an update. */
export function diffById<T extends { id: string }>(
  desired: readonly T[],
  existing: ReadonlyMap<string, T>,
  same: (a: T, b: T) => boolean,
  prune: boolean,
): Diff<T> {
  const diff: Diff<T> = { create: [], update: [], unchanged: [], remove: [] };
  const named = new Set<string>();
  for (const row of desired) {
    named.add(row.id);
    const old = existing.get(row.id);
    if (old === undefined) diff.create.push(row);
    else if (same(old, row)) diff.unchanged.push(row);
    else diff.update.push(row);
  }
  if (prune) for (const id of existing.keys()) if (!named.has(id)) diff.remove.push(id);
  return diff;
}

/** The summary counts of a diff. */
export function countsOf<T>(diff: Diff<T>): KindCounts {
  return { created: diff.create.length, updated: diff.update.length, unchanged: diff.unchanged.length, removed: diff.remove.length };
}

/** True when a kind's counts record any change. */
export function hasChanges(c: KindCounts): boolean {
  return c.created + c.updated + c.removed > 0;
}

/** Counts for the default model chain: names added, names dropped, and whether the order changed. */
export function diffModels(before: readonly string[], after: readonly string[]): KindCounts {
  const old = new Set(before);
  const next = new Set(after);
  const kept = after.filter((m) => old.has(m));
  const keptBefore = before.filter((m) => next.has(m));
  // A reordering of kept models changes the chain: count each model that moved as updated.
  const moved = kept.filter((m, i) => keptBefore[i] !== m).length;
  return {
    created: after.length - kept.length,
    updated: moved,
    unchanged: kept.length - moved,
    removed: before.filter((m) => !next.has(m)).length,
  };
}

export type FleetKind = 'models' | 'projects' | 'tenants' | 'keys' | 'limits';

/** One line of a dry run: what would change, never a secret or token (only that it changed). */
export interface FleetChange {
  kind: FleetKind;
  id: string;
  action: 'create' | 'update' | 'remove';
  details: string[];
}

/** The changes of a diff, updates described field by field against the stored row. */
export function changesOf<T extends { id: string }>(
  kind: FleetKind,
  diff: Diff<T>,
  existing: ReadonlyMap<string, T>,
  describe: (before: T, after: T) => string[],
): FleetChange[] {
  return [
    ...diff.create.map((r): FleetChange => ({ kind, id: r.id, action: 'create', details: [] })),
    ...diff.update.map((r): FleetChange => {
      const before = existing.get(r.id);
      return { kind, id: r.id, action: 'update', details: before ? describe(before, r) : [] };
    }),
    ...diff.remove.map((id): FleetChange => ({ kind, id, action: 'remove', details: [] })),
  ];
}

/** `label a → b` when a field differs. */
export function fieldChange(label: string, before: unknown, after: unknown): string[] {
  const show = (v: unknown): string => (v === null || v === undefined ? 'none' : Array.isArray(v) ? v.join(' > ') : String(v));
  return show(before) === show(after) ? [] : [`${label} ${show(before)} → ${show(after)}`];
}

/** The default model chain as a change line. */
export function modelChanges(before: readonly string[], after: readonly string[]): FleetChange[] {
  const counts = diffModels(before, after);
  return hasChanges(counts) ? [{ kind: 'models', id: 'models', action: 'update', details: fieldChange('chain', before, after) }] : [];
}
