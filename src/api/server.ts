import { Queue } from 'bullmq';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { createClient } from '../adapters/queue/client.js';
import { GENERATION_QUEUE, type GenerationJobData, type GenerationResult } from '../adapters/queue/job-contract.js';
import { MAINTENANCE_QUEUE } from '../app/maintenance.js';
import type { System } from '../system.js';
import { registerBullBoard } from './bull-board.js';
import { loggableUrl } from './security/redact-url.js';
import { apiSecurity } from './security/wiring.js';
import { errorHandler } from './error-handler.js';
import { adminFleetRoutes } from './routes/admin-fleet.js';
import { adminKeyRoutes } from './routes/admin-keys.js';
import { adminStateRoutes } from './routes/admin-state.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { generationRoutes } from './routes/generations.js';
import { compatRoutes } from './compat/index.js';
import { createQueueGenerationService } from './queue-generation-service.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';
import { adminUsageRoutes, producerUsageRoutes } from './routes/usage.js';

export interface ApiServerOptions {
  /** overrides sys.config.adminToken (tests); undefined => the admin surface is off */
  adminToken?: string | undefined;
  /** most seconds `POST /v1/generations?wait=` may wait; default 120 */
  maxWaitSeconds?: number;
  /** request body limit in bytes (fleet files can be large); default 10 MiB */
  bodyLimit?: number;
}

/** URLs are logged only through this: secret-looking query values replaced, an undecodable query dropped. */
export { loggableUrl };

/**
 * The HTTP surface of quotaflow: producer API (/v1, tenant tokens), admin
 * API (/admin/api), Bull Board (/admin/queues), dashboard, /metrics and
 * health checks. Returns the Fastify instance, not yet listening; closing it
 * closes what it opened (queues, client), never `sys`.
 */
export async function buildApiServer(sys: System, opts: ApiServerOptions = {}): Promise<FastifyInstance> {
  const adminToken = 'adminToken' in opts ? opts.adminToken : sys.config.adminToken;
  const app = Fastify({ trustProxy: sys.config.trustProxy, loggerInstance: sys.logger.child({ component: 'api' }) as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }), bodyLimit: opts.bodyLimit ?? 10 * 1024 * 1024 });
  const connection = sys.redis;
  const prefix = sys.prefix;
  const queue = new Queue<GenerationJobData, GenerationResult>(GENERATION_QUEUE, { connection, prefix });
  const maintenance = new Queue(MAINTENANCE_QUEUE, { connection, prefix });
  const client = createClient({ connection, prefix, redis: sys.config.redis, caps: sys.config.producerCaps, requestCaps: sys.config.requestCaps });
  const service = createQueueGenerationService({ client, loadFleet: () => sys.loadFleet() });
  app.addHook('onClose', async () => {
    await client.close();
    await queue.close();
    await maintenance.close();
  });
  app.setErrorHandler(errorHandler);
  // our own access log: Fastify's would print URLs with ?token= in them
  app.addHook('onResponse', async (req, reply) => {
    req.log.info({ method: req.method, url: loggableUrl(req.url), status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });

  const security = apiSecurity(sys, { adminToken });
  healthRoutes(app, sys);
  metricsRoutes(app, sys, queue);
  generationRoutes(app, { service, client, maxWaitSeconds: opts.maxWaitSeconds ?? 120, guard: security.tenantGuard() });
  producerUsageRoutes(app, { usage: sys.usage, guard: security.tenantGuard() });
  await compatRoutes(app, {
    service,
    authenticate: async (token, ip) => {
      const r = await security.tenantAuthenticator(token, ip);
      if ('tenant' in r) return r.tenant;
      return 'unknown' in r ? { failure: 'unknown_token' } : { failure: 'throttled', retryAfterSec: Math.ceil(r.throttledMs / 1000) };
    },
    maxWaitMs: (opts.maxWaitSeconds ?? 120) * 1000,
    logger: app.log,
    pinModel: (tenant) => tenant.settings?.pinModel === true,
  });

  await app.register(async (admin) => {
    admin.addHook('onRequest', security.adminGuard);
    security.registerLogout(admin);
    adminFleetRoutes(admin, sys);
    adminKeyRoutes(admin, sys);
    adminStateRoutes(admin, sys);
    adminUsageRoutes(admin, { usage: sys.usage });
    dashboardRoutes(admin, sys, queue);
    await registerBullBoard(admin, [queue, maintenance], '/admin/queues', { actions: sys.config.bullBoardActions });
  });
  return app;
}
