import { startMaintenanceWorker } from '../../../workers/maintenance.js';
import { MAINTENANCE_JOBS, type MaintenanceJob } from '../../app/maintenance.js';
import { defineCommand } from '../args.js';
import { bootstrap, untilSignal } from '../bootstrap.js';

const isJob = (s: string): s is MaintenanceJob => MAINTENANCE_JOBS.some((j) => j === s);

export const maintenance = defineCommand({
  name: 'maintenance',
  summary: 'run the maintenance worker (key health checks, dynamic priority, exclusion expiry, usage retention, capacity alerts) until SIGTERM/SIGINT',
  flags: {
    once: { type: 'string', value: 'JOB', choices: MAINTENANCE_JOBS, description: 'run this one job now, print its result as JSON and exit', defaultText: 'none (run until stopped)' },
    'retention-days': { type: 'int', min: 1, max: 3650, description: 'usage rows older than this are deleted', defaultText: '$QUOTAFLOW_USAGE_RETENTION_DAYS or 14' },
  },
  async run(f) {
    const once = f.once;
    const { logger, sys } = await bootstrap({ name: 'maintenance', oneOff: once !== undefined });
    const m = await startMaintenanceWorker(sys, { healthCheckEveryMs: sys.config.healthCheckMs, usageRetentionDays: f['retention-days'] ?? sys.config.usageRetentionDays });
    if (once !== undefined && isJob(once)) {
      console.log(JSON.stringify(await m.run(once)));
    } else {
      const sig = await untilSignal();
      logger.info({ signal: sig }, 'shutting down');
    }
    await m.close();
    await sys.close();
    return 0;
  },
});
