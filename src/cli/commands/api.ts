import type { FastifyInstance } from 'fastify';
import { buildApiServer } from '../../api/server.js';
import { defineCommand } from '../args.js';
import { FAIL_FAST } from '../../system.js';
import { bootstrap, untilSignal } from '../bootstrap.js';
import type { Logger } from '../../logger.js';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** How long running requests may go on after SIGTERM before their connections are cut. */
export const DRAIN_MS = 8_000;
const IDLE_SWEEP_MS = 250;

/**
 * Stops listening and closes the server. SDK connection pools hold idle
 * keep-alive connections, which `server.close()` alone waits for: they are
 * closed at once, and again as running requests finish on theirs; requests
 * still running after DRAIN_MS lose their connections.
 */
async function closeServer(app: FastifyInstance, logger: Logger): Promise<void> {
  const server = app.server;
  const closing = app.close();
  server.closeIdleConnections();
  const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
  const cut = setTimeout(() => {
    logger.warn({ afterMs: DRAIN_MS }, 'requests still running at shutdown: closing their connections');
    server.closeAllConnections();
  }, DRAIN_MS);
  try {
    await closing;
  } finally {
    clearInterval(sweep);
    clearTimeout(cut);
  }
}

export const api = defineCommand({
  name: 'api',
  summary: 'serve the HTTP API: producer API, admin API, Bull Board, /dashboard, /metrics, /healthz, /readyz',
  flags: {
    port: { type: 'int', short: 'p', min: 0, max: 65_535, description: 'port to listen on', defaultText: '$QUOTAFLOW_API_PORT or 8080' },
    host: { type: 'string', value: 'ADDR', description: 'address to listen on (0.0.0.0 for every interface)', defaultText: '$QUOTAFLOW_API_HOST or 127.0.0.1' },
  },
  async run(f) {
    // a request answers 503 within seconds when Redis is down, and nothing is queued after its caller was answered
    const { logger, sys } = await bootstrap({ name: 'api', oneOff: false, profile: FAIL_FAST });
    const port = f.port ?? sys.config.apiPort;
    const host = f.host ?? sys.config.apiHost;
    if (!sys.config.adminToken) logger.warn('QUOTAFLOW_ADMIN_TOKEN is unset: the admin API, Bull Board and the dashboard are off');
    if (!LOOPBACK.has(host) && !sys.config.metricsToken) {
      logger.warn({ host }, 'listening beyond this machine with /metrics open (it lists tenants, keys and projects); set QUOTAFLOW_METRICS_TOKEN');
    }
    const app = await buildApiServer(sys);
    const address = await app.listen({ port, host });
    logger.info({ address }, 'api listening');
    const sig = await untilSignal();
    logger.info({ signal: sig }, 'shutting down');
    await closeServer(app, logger);
    await sys.close();
    return 0;
  },
});
