import { startMaintenanceWorker } from '../../../workers/maintenance.js';
import { MAINTENANCE_JOBS, type MaintenanceJob } from '../../app/maintenance.js';
import { ValidationError } from '../../errors.js';
import { intFlag, parseFlags, type Command } from '../args.js';
import { bootstrap, untilSignal } from '../bootstrap.js';

export const maintenance: Command = {
  summary: 'run the maintenance worker (key health checks, dynamic priority, exclusion expiry, usage retention, capacity alerts) until SIGTERM/SIGINT',
  usage: `quotaflow maintenance [--once ${MAINTENANCE_JOBS.join('|')}] [--retention-days N]`,
  async run(args) {
    const f = parseFlags(args, { once: { type: 'string' }, 'retention-days': { type: 'string' } });
    const once = f.once;
    if (once !== undefined && !MAINTENANCE_JOBS.some((j) => j === once)) throw new ValidationError(`--once must be one of ${MAINTENANCE_JOBS.join(', ')}`);
    const usageRetentionDays = intFlag(f['retention-days'], 'retention-days', { min: 1, max: 3650 });
    const { logger, sys } = await bootstrap({ name: 'maintenance' });
    const m = await startMaintenanceWorker(sys, { healthCheckEveryMs: sys.config.healthCheckMs, usageRetentionDays: usageRetentionDays ?? sys.config.usageRetentionDays });
    if (once !== undefined) {
      const result = await m.run(once as MaintenanceJob);
      console.log(JSON.stringify(result));
    } else {
      const sig = await untilSignal();
      logger.info({ signal: sig }, 'shutting down');
    }
    await m.close();
    await sys.close();
    return 0;
  },
};
