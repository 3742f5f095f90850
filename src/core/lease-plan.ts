import { scopeOf, type FleetIndex } from './fleet-index.js';
import type { ApiKey, ResolvedLimits } from './types.js';

/**
 * Candidate order for one lease, as data:
 *   key mode decides own keys, central keys, or own then central;
 *   within each, the model chain in order (every key of a model before the
 *   next model); within a model, one group per priority tier, best first.
 * Within a group the limiter picks the least utilised scope with room,
 * round robin on ties. Known-unavailable pairs never become candidates.
 */
export interface Candidate {
  keyId: string;
  projectId: string;
  model: string;
  central: boolean;
  scope: string;
  limits: ResolvedLimits;
}

export interface CandidateGroup {
  id: string;
  model: string;
  central: boolean;
  priority: number;
  candidates: Candidate[];
}

export interface PlanInput {
  tenantId: string;
  chain: readonly string[];
  /** true when this job may not use (key, model) now: already tried and still backing off */
  skip?: (keyId: string, model: string) => boolean;
  /** scopes known to be unavailable right now (e.g. RPD full this day) */
  skipScope?: (scope: string) => boolean;
}

export type Plan =
  | { kind: 'plan'; groups: CandidateGroup[] }
  /** no enabled key could ever serve this tenant's chain */
  | { kind: 'no_keys'; detail: string };

export function planLease(index: FleetIndex, input: PlanInput): Plan {
  const tenant = index.tenant(input.tenantId);
  if (!tenant) return { kind: 'no_keys', detail: `unknown tenant "${input.tenantId}"` };
  const sets: Array<{ central: boolean; keys: readonly ApiKey[] }> = [];
  if (tenant.keyMode !== 'central-only') sets.push({ central: false, keys: index.ownKeys(tenant.id) });
  if (tenant.keyMode !== 'own-only') sets.push({ central: true, keys: index.centralKeys() });

  let usable = 0;
  const groups: CandidateGroup[] = [];
  for (const { central, keys } of sets) {
    for (const model of input.chain) {
      const byTier = new Map<number, Candidate[]>();
      for (const key of keys) {
        if (!key.enabled || index.isUnsupported(key.projectId, model)) continue;
        usable++;
        const scope = scopeOf(key.projectId, model);
        if (input.skip?.(key.id, model) || input.skipScope?.(scope)) continue;
        const list = byTier.get(key.priority) ?? [];
        list.push({ keyId: key.id, projectId: key.projectId, model, central, scope, limits: index.limits(key.projectId, model) });
        byTier.set(key.priority, list);
      }
      for (const [priority, candidates] of [...byTier].sort((a, b) => a[0] - b[0])) {
        const owner = central ? 'central' : `t:${tenant.id}`;
        groups.push({ id: `${owner}|${model}|${priority}`, model, central, priority, candidates });
      }
    }
  }
  if (usable === 0) {
    const which = tenant.keyMode === 'own-only' ? 'own' : tenant.keyMode === 'central-only' ? 'central' : 'own or central';
    return { kind: 'no_keys', detail: `tenant "${tenant.id}" has no enabled ${which} key for models ${input.chain.join(', ')}` };
  }
  return { kind: 'plan', groups };
}
