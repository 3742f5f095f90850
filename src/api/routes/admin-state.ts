import type { FastifyInstance } from 'fastify';
import type { System } from '../../system.js';

type ScopeParams = { Params: { project: string; model: string } };

/** Tenants, projects, limits, exclusions and cooldowns: list, and clear the last two. */
export function adminStateRoutes(app: FastifyInstance, sys: System): void {
  app.get('/admin/api/tenants', async () => ({ tenants: await sys.admin.tenants() }));
  app.get('/admin/api/projects', async () => ({ projects: await sys.admin.projects() }));
  app.get('/admin/api/limits', async () => sys.admin.limits());
  app.get('/admin/api/exclusions', async () => ({ exclusions: await sys.admin.exclusions() }));

  /** Clears stored exclusions of a scope (`?reason=` for one) and its day block in Redis. */
  app.delete<ScopeParams>('/admin/api/exclusions/:project/:model', async (req) => {
    const reason = (req.query as Record<string, unknown>).reason;
    return { cleared: await sys.admin.clearExclusion(req.params.project, req.params.model, typeof reason === 'string' ? reason : undefined) };
  });

  app.get('/admin/api/cooldowns', async () => sys.admin.cooldowns());
  app.delete<ScopeParams>('/admin/api/cooldowns/:project/:model', async (req) => {
    await sys.admin.clearCooldown(req.params.project, req.params.model);
    return { cleared: true };
  });
}
