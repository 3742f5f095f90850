import { startGenerationWorker } from '../../../workers/generation.js';
import { startMaintenanceWorker } from '../../../workers/maintenance.js';
import { createWebhookAlerts } from '../../adapters/alerts/webhook.js';
import { createRedisMetricsRecorder } from '../../adapters/metrics/redis-recorder.js';
import { loadConfig } from '../../config.js';
import { defineCommand } from '../args.js';
import { bootstrap, requireSecretKey, untilSignal } from '../bootstrap.js';

export const worker = defineCommand({
  name: 'worker',
  summary: 'run a generation worker until SIGTERM/SIGINT',
  flags: {
    concurrency: { type: 'int', short: 'c', min: 1, max: 1000, default: 16, description: 'jobs processed at once' },
    'grace-ms': { type: 'int', min: 0, default: 30_000, description: 'on SIGTERM, how long running jobs may finish before they are handed back' },
    'no-maintenance': { type: 'boolean', description: 'do not run the maintenance jobs in this process' },
  },
  async run(f) {
    const config = loadConfig();
    requireSecretKey(config, 'for workers to decrypt the stored API keys');
    const { logger, sys } = await bootstrap({ name: 'worker', oneOff: false, config });
    const alerts = createWebhookAlerts(sys.config, logger);
    const metrics = createRedisMetricsRecorder(sys.redis, sys.prefix, { logger });
    const w = await startGenerationWorker(sys, { concurrency: f.concurrency, metrics, alerts });
    // the schedulers are shared: each maintenance job runs once per interval however many workers run it
    const maint = f['no-maintenance']
      ? null
      : await startMaintenanceWorker(sys, { alerts, healthCheckEveryMs: sys.config.healthCheckMs, usageRetentionDays: sys.config.usageRetentionDays });
    const sig = await untilSignal();
    logger.info({ signal: sig, graceMs: f['grace-ms'] }, 'shutting down');
    await w.close(f['grace-ms']);
    await maint?.close();
    await metrics.stop();
    await alerts.drain();
    await sys.close();
    logger.info('worker stopped');
    return 0;
  },
});
