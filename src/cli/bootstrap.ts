import { loadConfig, type Config } from '../config.js';
import { createLogger, type Logger } from '../logger.js';
import { openSystem, type System } from '../system.js';

/** Config, a logger on stderr (stdout stays clean for --json) and the wired system. */
export async function bootstrap(opts: { name: string } = { name: 'cli' }): Promise<{ config: Config; logger: Logger; sys: System }> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, name: opts.name, destination: process.stderr });
  const sys = await openSystem(config, logger);
  return { config, logger, sys };
}

/** Resolves on the first SIGINT or SIGTERM. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}
