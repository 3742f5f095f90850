import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { reportJson } from '../../app/usage-report.js';
import { parseUsageQuery, tenantStatusJson, type Usage } from '../../app/usage.js';
import { ValidationError } from '../../errors.js';

/**
 * `GET /admin/api/usage?tenant=&from=&to=`: usage and cost per day, model
 * and kind of key (own or central) with totals, for one tenant or all;
 * from/to are Pacific days (YYYY-MM-DD), both absent = today. Registered in
 * the admin-guarded scope.
 */
export function adminUsageRoutes(app: FastifyInstance, deps: { usage: Usage }): void {
  app.get('/admin/api/usage', async (req) => {
    const q = req.query as Record<string, unknown>;
    return reportJson(await deps.usage.report(parseUsageQuery({ tenant: q.tenant, from: q.from, to: q.to }, deps.usage.today().day)));
  });
}

/**
 * `GET /v1/usage`: the calling tenant's own usage today and this month
 * (requests, tokens, cost; own and central keys), each of its limits with
 * what is used and left right now, and its budget left.
 */
export function producerUsageRoutes(app: FastifyInstance, deps: { usage: Usage; guard: (req: FastifyRequest, reply: FastifyReply) => Promise<void> }): void {
  app.get('/v1/usage', { onRequest: deps.guard }, async (req) => {
    // the guard ran before: a request without a tenant never reaches a handler
    if (!req.tenant) throw new ValidationError('no tenant on request');
    const [status] = await deps.usage.tenants([req.tenant]);
    if (!status) throw new ValidationError('no usage for the tenant');
    return tenantStatusJson(status);
  });
}
