import type { EffectiveCatalog } from './catalog-merge.js';

/** 'models/gemini-2.5-flash' and 'gemini-2.5-flash' are the same model. */
export function canonicalModelId(id: string): string {
  return id.startsWith('models/') ? id.slice('models/'.length) : id;
}

/**
 * The model an id names: the `models/` prefix dropped and an alias replaced
 * by its target. Unknown ids come back canonical but otherwise unchanged (no
 * prefix guessing: "gemini-2.5-flash-image" is not "gemini-2.5-flash").
 */
export function resolveModelAlias(catalog: EffectiveCatalog, id: string): string {
  const canonical = canonicalModelId(id);
  return catalog.aliases.get(canonical)?.value ?? canonical;
}

/** Whether the catalog knows the id as a model or an alias. */
export function isKnownModel(catalog: EffectiveCatalog, id: string): boolean {
  const canonical = canonicalModelId(id);
  return catalog.models.has(canonical) || catalog.aliases.has(canonical);
}

/** Levenshtein distance, two rows of memory. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

/**
 * The known model or alias id nearest to `id`, for "did you mean" messages;
 * undefined when nothing is close (more than a third of the id would have to
 * change) or the id is itself known. Ties go to the alphabetically first id.
 */
export function closestModel(catalog: EffectiveCatalog, id: string): string | undefined {
  const wanted = canonicalModelId(id).toLowerCase();
  if (isKnownModel(catalog, wanted)) return undefined;
  const limit = Math.max(2, Math.floor(wanted.length / 3));
  let best: { id: string; distance: number } | undefined;
  for (const candidate of [...catalog.models.keys(), ...catalog.aliases.keys()].sort()) {
    const distance = editDistance(wanted, candidate.toLowerCase());
    if (distance <= limit && (!best || distance < best.distance)) best = { id: candidate, distance };
  }
  return best?.id;
}
