import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import type { System } from '../../system.js';
import { dashboardData } from '../dashboard-data.js';
import { DASHBOARD_HTML } from '../dashboard-page.js';

function hasToken(query: unknown): boolean {
  return typeof query === 'object' && query !== null && 'token' in query;
}

/**
 * /dashboard (the page) and /dashboard/data.json (what it shows), both
 * registered inside the admin-guarded scope. Arriving with `?token=` opens
 * a session (the guard sets its cookie); the page then redirects to drop the
 * token from the URL (and from history).
 */
export function dashboardRoutes(app: FastifyInstance, sys: System, queue: Queue): void {
  app.get('/dashboard', async (req, reply) => {
    if (hasToken(req.query)) return reply.redirect('/dashboard/', 303);
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(DASHBOARD_HTML);
  });
  app.get('/dashboard/', async (_req, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(DASHBOARD_HTML));
  app.get('/dashboard/data.json', async (_req, reply) => reply.header('cache-control', 'no-store').send(await dashboardData(sys, queue)));
}
