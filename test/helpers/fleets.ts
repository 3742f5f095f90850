import { parseSimulatorConfig, type SimulatorConfig } from '../../src/simulator/index.js';

export type LimitTable = Record<string, { rpm: number; tpm: number; rpd: number }>;

export interface KeyDef {
  id: string;
  tenant: string | null;
  project: string;
  priority?: number;
}

/**
 * One description, two configs: the stand-in enforces exactly the limits
 * the fleet file tells quotaflow, so any 429 is quotaflow's fault.
 */
export function matchedConfigs(opts: {
  models: string[];
  projects: Record<string, LimitTable>;
  tenants: Array<{ id: string; keyMode?: string; models?: string[] }>;
  keys: KeyDef[];
  sim?: Record<string, unknown>;
}): { sim: SimulatorConfig; fleet: unknown; secretOf: (keyId: string) => string } {
  const secretOf = (id: string): string => `sk-test-${id}-0123456789`;
  const defaults: LimitTable = Object.fromEntries(opts.models.map((m) => [m, { rpm: 1000, tpm: 10_000_000, rpd: 100_000 }]));
  const sim = parseSimulatorConfig({
    ...opts.sim,
    models: defaults,
    projects: Object.entries(opts.projects).map(([id, limits]) => ({
      id,
      tier: 'tier1',
      limits,
      keys: opts.keys.filter((k) => k.project === id).map((k) => ({ secret: secretOf(k.id), label: k.id })),
    })),
  });
  const fleet = {
    models: opts.models,
    projects: Object.entries(opts.projects).map(([id, limits]) => ({
      id,
      tier: 'tier1',
      limits: Object.fromEntries(opts.models.map((m) => [m, limits[m] ?? defaults[m]])),
    })),
    tenants: opts.tenants,
    keys: opts.keys.map((k) => ({ id: k.id, tenant: k.tenant, project: k.project, secret: secretOf(k.id), priority: k.priority ?? 1 })),
  };
  return { sim, fleet, secretOf };
}

export function countBy<T>(items: readonly T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) out[key(i)] = (out[key(i)] ?? 0) + 1;
  return out;
}
