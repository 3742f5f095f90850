import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * The process's runtime metrics from prom-client, minus the three gauges it
 * names `*_total`: that suffix is reserved for counters, so
 * `promtool check metrics` rejects them. Active handles and requests are Node
 * internals; `nodejs_active_resources{type}` still counts the same resources.
 */
const MISNAMED = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

export function processRegistry(prefix: string): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix });
  for (const name of MISNAMED) registry.removeSingleMetric(`${prefix}${name}`);
  return registry;
}
