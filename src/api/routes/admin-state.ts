import type { FastifyInstance } from 'fastify';
import { listProjects, listStoredLimits, listTenants } from '../../adapters/postgres/admin-repo.js';
import { activeExclusions, clearExclusion } from '../../adapters/postgres/exclusions-repo.js';
import { buildFleetIndex, scopeOf } from '../../core/fleet-index.js';
import type { System } from '../../system.js';
import { fleetModels } from '../live-state.js';

type ScopeParams = { Params: { project: string; model: string } };

/** Tenants, projects, limits, exclusions and cooldowns: list, and clear the last two. */
export function adminStateRoutes(app: FastifyInstance, sys: System): void {
  app.get('/admin/api/tenants', async () => ({ tenants: await listTenants(sys.db) }));
  app.get('/admin/api/projects', async () => ({ projects: await listProjects(sys.db) }));

  app.get('/admin/api/limits', async () => {
    const fleet = buildFleetIndex(await sys.fleetSource.load());
    const models = fleetModels(fleet);
    const effective = fleet.fleet.projects.flatMap((p) => models.map((model) => ({ projectId: p.id, model, ...fleet.limits(p.id, model) })));
    return { effective, stored: await listStoredLimits(sys.db) };
  });

  app.get('/admin/api/exclusions', async () => {
    const now = Date.now();
    const rows = await activeExclusions(sys.db, new Date(now));
    return { exclusions: rows.map((r) => ({ ...r, msLeft: r.until ? r.until.getTime() - now : null })) };
  });

  /** Clears stored exclusions of a scope (`?reason=` for one) and its day block in Redis. */
  app.delete<ScopeParams>('/admin/api/exclusions/:project/:model', async (req) => {
    const reason = (req.query as Record<string, unknown>).reason;
    const cleared = await clearExclusion(sys.db, { projectId: req.params.project, model: req.params.model, ...(typeof reason === 'string' ? { reason } : {}) });
    await sys.limiter.clearBlock(scopeOf(req.params.project, req.params.model), 'day');
    await sys.announce();
    return { cleared };
  });

  app.get('/admin/api/cooldowns', async () => {
    const fleet = buildFleetIndex(await sys.fleetSource.load());
    const models = fleetModels(fleet);
    const scopes = [...new Set(fleet.fleet.keys.map((k) => k.projectId))].flatMap((projectId) => models.map((model) => ({ projectId, model })));
    const blocks = await Promise.all(scopes.map(async (s) => ({ ...s, ...(await sys.limiter.blocks(scopeOf(s.projectId, s.model))) })));
    const ms = (v: number | null): number | null => (v === null ? null : Number.isFinite(v) ? v : -1);
    return {
      cooldowns: blocks.filter((b) => b.coolMs !== null).map((b) => ({ projectId: b.projectId, model: b.model, msLeft: ms(b.coolMs) })),
      dayBlocks: blocks.filter((b) => b.dayMs !== null).map((b) => ({ projectId: b.projectId, model: b.model, msLeft: ms(b.dayMs) })),
    };
  });

  app.delete<ScopeParams>('/admin/api/cooldowns/:project/:model', async (req) => {
    await sys.limiter.clearBlock(scopeOf(req.params.project, req.params.model), 'cool');
    await sys.announce();
    return { cleared: true };
  });
}
