import type { FastifyInstance } from 'fastify';
import type { System } from '../../system.js';

/** /healthz: the process answers. /readyz: Redis and Postgres answer too (503 naming which does not). */
export function healthRoutes(app: FastifyInstance, sys: System): void {
  app.get('/healthz', async () => ({ ok: true }));
  app.get('/readyz', async (_req, reply) => {
    const { redis, postgres } = await sys.ping();
    const ok = redis === 'ok' && postgres === 'ok';
    return reply.code(ok ? 200 : 503).send({ ok, redis, postgres });
  });
}
