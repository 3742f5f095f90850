/**
 * The old algorithm, as a pure policy: pick the first model of the chain
 * whose usage (a plain in-process counter) is under 80% of the SUMMED quota
 * of every key for that model, each key counted as its own quota (no project
 * grouping); always the tenant's first key; no tried-set. When every model is
 * past 80% it keeps using the last model of the chain.
 */
import { allTenants, limitsOf, type Scenario } from '../scenario.js';

export const SWITCH_AT = 0.8;
const MINUTE_MS = 60_000;

export interface BaselineChoice {
  keyId: string;
  projectId: string;
  model: string;
  central: boolean;
}

export interface BaselinePolicy {
  /** null: the tenant has no key at all */
  choose(tenantId: string, now: number): BaselineChoice | null;
  /** counts one call sent upstream (whatever it answered) */
  count(model: string, now: number): void;
}

export function createBaselinePolicy(s: Scenario): BaselinePolicy {
  // Each key is its own quota: a project with two keys counts twice.
  const summed = new Map<string, { rpm: number; rpd: number }>();
  for (const m of s.models) {
    let rpm = 0;
    let rpd = 0;
    for (const k of s.keys) {
      const l = limitsOf(s, k.project, m, 'fleet');
      rpm += l.rpm;
      rpd += l.rpd;
    }
    summed.set(m, { rpm, rpd });
  }
  const tenants = new Map(allTenants(s).map((t) => [t.id, t]));
  const byPriority = [...s.keys].sort((a, b) => a.priority - b.priority || a.id.localeCompare(b.id));
  const minute = new Map<string, number[]>();
  const day = new Map<string, { id: number; n: number }>();

  const usedInMinute = (model: string, now: number): number => {
    const list = (minute.get(model) ?? []).filter((t) => t > now - MINUTE_MS);
    minute.set(model, list);
    return list.length;
  };
  const usedToday = (model: string, now: number): number => {
    const d = day.get(model);
    return d && d.id === Math.floor(now / s.dayLengthMs) ? d.n : 0;
  };

  return {
    choose(tenantId, now) {
      const t = tenants.get(tenantId);
      if (!t) return null;
      const own = t.keyMode === 'central-only' ? [] : byPriority.filter((k) => k.tenant === tenantId);
      const central = t.keyMode === 'own-only' ? [] : byPriority.filter((k) => k.tenant === null);
      const key = [...own, ...central][0];
      if (!key) return null;
      const chain = t.models ?? s.models;
      const model =
        chain.find((m) => {
          const q = summed.get(m) ?? { rpm: 0, rpd: 0 };
          return usedInMinute(m, now) < SWITCH_AT * q.rpm && usedToday(m, now) < SWITCH_AT * q.rpd;
        }) ?? chain[chain.length - 1];
      if (!model) return null;
      return { keyId: key.id, projectId: key.project, model, central: key.tenant === null };
    },
    count(model, now) {
      const list = minute.get(model) ?? [];
      list.push(now);
      minute.set(model, list);
      const id = Math.floor(now / s.dayLengthMs);
      const d = day.get(model);
      day.set(model, d && d.id === id ? { id, n: d.n + 1 } : { id, n: 1 });
    },
  };
}
