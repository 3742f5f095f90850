/**
 * One scenario, two configs: the stand-in's and quotaflow's fleet file. Both
 * come from the same limit table, so with no `standInOnlyLimits` every 429
 * the stand-in answers is a policy's own doing.
 */
import { parseFleet, type FleetSpec } from '../../src/core/fleet-file.js';
import { parseSimulatorConfig, type SimulatorConfig } from '../../src/simulator/index.js';
import { allTenants, limitsOf, secretOf, type Scenario } from '../scenario.js';

export function standInConfig(s: Scenario, overrides: { latencyMs?: { min: number; max: number }; faults?: boolean } = {}): SimulatorConfig {
  return parseSimulatorConfig({
    models: Object.fromEntries(s.models.map((m) => [m, limitsOf(s, '', m, 'standIn')])),
    projects: Object.keys(s.projects).map((id) => ({
      id,
      tier: 'tier1',
      limits: Object.fromEntries(s.models.map((m) => [m, limitsOf(s, id, m, 'standIn')])),
      keys: s.keys.filter((k) => k.project === id).map((k) => ({ secret: secretOf(k.id), label: k.id })),
    })),
    dayLengthMs: s.dayLengthMs,
    latencyMs: overrides.latencyMs ?? s.standIn.latencyMs,
    faults: { rules: overrides.faults === false ? [] : s.standIn.faults },
    seed: s.standIn.seed,
    maxCallLog: 1_000_000,
  });
}

export function fleetDocument(s: Scenario): unknown {
  return {
    models: s.models,
    projects: Object.keys(s.projects).map((id) => ({
      id,
      tier: 'tier1',
      limits: Object.fromEntries(s.models.map((m) => [m, limitsOf(s, id, m, 'fleet')])),
    })),
    tenants: allTenants(s).map((t) => ({ id: t.id, keyMode: t.keyMode, ...(t.models ? { models: t.models } : {}) })),
    keys: s.keys.map((k) => ({ id: k.id, tenant: k.tenant, project: k.project, secret: secretOf(k.id), priority: k.priority })),
  };
}

export function fleetSpec(s: Scenario): FleetSpec {
  return parseFleet(fleetDocument(s));
}
