import { buildApiServer } from '../../api/server.js';
import { defineCommand } from '../args.js';
import { FAIL_FAST } from '../../system.js';
import { bootstrap, untilSignal } from '../bootstrap.js';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

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
    await app.close();
    await sys.close();
    return 0;
  },
});
