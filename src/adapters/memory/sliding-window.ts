/** A reservation in a sliding window: when it was made, and its cost in each window dimension. */
export interface Reservation {
  at: number;
  costs: number[];
}

/**
 * When a window of reservations can take `costs` more under `limits`
 * (<= now: now; null: never, a cost alone exceeds its limit), and how
 * utilised it is: the same arithmetic as includes/window.lua.
 */
export function freeAfter(window: ReadonlyMap<string, Reservation>, limits: readonly number[], costs: readonly number[], now: number, windowMs: number): { free: number | null; util: number } {
  const ordered = [...window.values()].sort((a, b) => a.at - b.at);
  let free = now;
  let util = 0;
  for (let d = 0; d < limits.length; d++) {
    const limit = limits[d] ?? 0;
    const cost = costs[d] ?? 0;
    const sum = ordered.reduce((n, r) => n + (r.costs[d] ?? 0), 0);
    if (cost > limit || limit < 1) return { free: null, util };
    if (sum + cost > limit) {
      let acc = 0;
      const need = sum + cost - limit;
      const freeing = ordered.find((r) => (acc += r.costs[d] ?? 0) >= need);
      if (!freeing) return { free: null, util };
      free = Math.max(free, freeing.at + windowMs);
    }
    util = Math.max(util, sum / limit);
  }
  return { free, util };
}
