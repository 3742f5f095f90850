import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { CONTENT_TYPE, renderFamilies } from '../../adapters/metrics/exposition.js';
import { readCounterFamilies } from '../../adapters/metrics/read-counters.js';
import type { System } from '../../system.js';
import { liveFamilies } from '../live-families.js';
import { readLiveState } from '../live-state.js';

/**
 * /metrics: the system's counters (flushed to Redis by every worker) and
 * its live state (quota, cooldowns, breakers, queue), computed at scrape
 * time, plus this API process's own runtime metrics from prom-client.
 * Unauthenticated like most scrape targets: it carries ids, never secrets.
 */
export function metricsRoutes(app: FastifyInstance, sys: System, queue: Queue): void {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'quotaflow_api_' });
  app.get('/metrics', async (_req, reply) => {
    const [counters, live, own] = await Promise.all([readCounterFamilies(sys.redis, sys.config.prefix), readLiveState(sys, queue), registry.metrics()]);
    return reply.type(CONTENT_TYPE).send(renderFamilies([...counters, ...liveFamilies(live)]) + own);
  });
}
