import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { errorMessage } from '../../errors.js';
import type { System } from '../../system.js';

/** /healthz: the process answers. /readyz: Redis and Postgres answer too (503 naming which does not). */
export function healthRoutes(app: FastifyInstance, sys: System): void {
  app.get('/healthz', async () => ({ ok: true }));
  app.get('/readyz', async (_req, reply) => {
    const check = async (f: () => Promise<unknown>): Promise<string> => {
      try {
        await Promise.race([f(), new Promise((_, reject) => setTimeout(() => reject(new Error('timed out')), 2_000).unref())]);
        return 'ok';
      } catch (err) {
        return `error: ${errorMessage(err)}`;
      }
    };
    const [redis, postgres] = await Promise.all([check(() => sys.redis.ping()), check(() => sys.db.execute(sql`select 1`))]);
    const ok = redis === 'ok' && postgres === 'ok';
    return reply.code(ok ? 200 : 503).send({ ok, redis, postgres });
  });
}
