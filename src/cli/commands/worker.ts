import { startGenerationWorker } from '../../../workers/generation.js';
import { intFlag, parseFlags, type Command } from '../args.js';
import { bootstrap, untilSignal } from '../bootstrap.js';

export const worker: Command = {
  summary: 'run a generation worker until SIGTERM/SIGINT',
  usage: 'quotaflow worker [--concurrency N] [--grace-ms N]',
  async run(args) {
    const f = parseFlags(args, {
      concurrency: { type: 'string', short: 'c' },
      'grace-ms': { type: 'string' },
    });
    const concurrency = intFlag(f.concurrency, 'concurrency', { min: 1, max: 1000 }) ?? 16;
    const graceMs = intFlag(f['grace-ms'], 'grace-ms', { min: 0 }) ?? 30_000;
    const { logger, sys } = await bootstrap({ name: 'worker' });
    const w = await startGenerationWorker(sys, { concurrency });
    const sig = await untilSignal();
    logger.info({ signal: sig, graceMs }, 'shutting down');
    await w.close(graceMs);
    await sys.close();
    logger.info('worker stopped');
    return 0;
  },
};
