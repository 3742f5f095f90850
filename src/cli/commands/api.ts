import { buildApiServer } from '../../api/server.js';
import { intFlag, parseFlags, type Command } from '../args.js';
import { bootstrap, untilSignal } from '../bootstrap.js';

export const api: Command = {
  summary: 'serve the HTTP API: producer API, admin API, Bull Board, /dashboard, /metrics, /healthz, /readyz',
  usage: 'quotaflow api [--port N] [--host ADDR]',
  async run(args) {
    const f = parseFlags(args, { port: { type: 'string', short: 'p' }, host: { type: 'string' } });
    const portFlag = intFlag(f.port, 'port', { min: 0, max: 65_535 });
    const { logger, sys } = await bootstrap({ name: 'api' });
    const port = portFlag ?? sys.config.apiPort;
    if (!sys.config.adminToken) logger.warn('QUOTAFLOW_ADMIN_TOKEN is unset: the admin API, Bull Board and the dashboard are off');
    const app = await buildApiServer(sys);
    const address = await app.listen({ port, host: f.host ?? '0.0.0.0' });
    logger.info({ address }, 'api listening');
    const sig = await untilSignal();
    logger.info({ signal: sig }, 'shutting down');
    await app.close();
    await sys.close();
    return 0;
  },
};
