import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { CONTENT_TYPE, renderFamilies } from '../../adapters/metrics/exposition.js';
import { processRegistry } from '../../adapters/metrics/process-metrics.js';
import { readCounterFamilies } from '../../adapters/metrics/read-counters.js';
import type { System } from '../../system.js';
import { bearerOf, sameSecret } from '../admin-auth.js';
import { liveFamilies } from '../live-families.js';
import { liveRead, readLiveState } from '../live-state.js';

/**
 * /metrics: the system's counters (flushed to Redis by every worker) and
 * its live state (quota, cooldowns, breakers, queue), computed at scrape
 * time, plus this API process's own runtime metrics. It names tenants, keys
 * and projects (never secrets): with QUOTAFLOW_METRICS_TOKEN set a scraper
 * must send `Authorization: Bearer <token>`.
 */
export function metricsRoutes(app: FastifyInstance, sys: System, queue: Queue): void {
  const registry = processRegistry('quotaflow_api_');
  const token = sys.config.metricsToken;
  app.get('/metrics', async (req, reply) => {
    if (token) {
      const given = bearerOf(req);
      if (given === undefined) return reply.code(401).header('www-authenticate', 'Bearer').send({ error: { code: 'unauthorized', message: 'send Authorization: Bearer <QUOTAFLOW_METRICS_TOKEN>' } });
      if (!sameSecret(given, token)) return reply.code(403).send({ error: { code: 'forbidden', message: 'wrong metrics token' } });
    }
    const live = await readLiveState(sys, queue);
    // label values stay bounded by the fleet: a tenant it does not know is counted as `_unknown`
    const tenants = new Set(live.fleet.fleet.tenants.map((t) => t.id));
    const [counters, own] = await Promise.all([liveRead('counters read', () => readCounterFamilies(sys.redis, sys.prefix, { tenants })), registry.metrics()]);
    return reply.type(CONTENT_TYPE).send(renderFamilies([...counters, ...liveFamilies(live)]) + own);
  });
}
