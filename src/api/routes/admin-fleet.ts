import type { FastifyInstance } from 'fastify';
import { parseFleet } from '../../core/fleet-file.js';
import type { System } from '../../system.js';

/**
 * POST /admin/api/fleet: the body is a fleet file (JSON); `?prune=true`
 * also removes what it no longer names. Same rules as `quotaflow apply`;
 * workers are told to reload. GET shows the stored fleet (no secrets).
 */
export function adminFleetRoutes(app: FastifyInstance, sys: System): void {
  app.post('/admin/api/fleet', async (req) => {
    const q = req.query as Record<string, unknown>;
    const prune = q.prune === 'true' || q.prune === '1';
    const summary = await sys.admin.applyFleet(parseFleet(req.body), { prune });
    req.log.info({ version: summary.version, changed: summary.changed, prune }, 'fleet applied through the admin API');
    return summary;
  });

  app.get('/admin/api/fleet', async () => sys.fleetSource.load());
}
