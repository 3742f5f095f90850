import { startGenerationWorker } from '../../../workers/generation.js';
import { startMaintenanceWorker } from '../../../workers/maintenance.js';
import { createWebhookAlerts } from '../../adapters/alerts/webhook.js';
import { createRedisMetricsRecorder } from '../../adapters/metrics/redis-recorder.js';
import { intFlag, parseFlags, type Command } from '../args.js';
import { bootstrap, untilSignal } from '../bootstrap.js';

export const worker: Command = {
  summary: 'run a generation worker until SIGTERM/SIGINT',
  usage: 'quotaflow worker [--concurrency N] [--grace-ms N] [--no-maintenance]',
  async run(args) {
    const f = parseFlags(args, {
      concurrency: { type: 'string', short: 'c' },
      'grace-ms': { type: 'string' },
      'no-maintenance': { type: 'boolean' },
    });
    const concurrency = intFlag(f.concurrency, 'concurrency', { min: 1, max: 1000 }) ?? 16;
    const graceMs = intFlag(f['grace-ms'], 'grace-ms', { min: 0 }) ?? 30_000;
    const { logger, sys } = await bootstrap({ name: 'worker' });
    const alerts = createWebhookAlerts(sys.config, logger);
    const metrics = createRedisMetricsRecorder(sys.redis, sys.config.prefix, { logger });
    const w = await startGenerationWorker(sys, { concurrency, metrics, alerts });
    // the schedulers are shared: each maintenance job runs once per interval however many workers run it
    const maint = f['no-maintenance']
      ? null
      : await startMaintenanceWorker(sys, { alerts, healthCheckEveryMs: sys.config.healthCheckMs, usageRetentionDays: sys.config.usageRetentionDays });
    const sig = await untilSignal();
    logger.info({ signal: sig, graceMs }, 'shutting down');
    await w.close(graceMs);
    await maint?.close();
    await metrics.stop();
    await alerts.drain();
    await sys.close();
    logger.info('worker stopped');
    return 0;
  },
};
