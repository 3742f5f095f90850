import { ConfigError, loadConfig, type Config } from '../config.js';
import { chooseLogFormat, createLogger, type Logger } from '../logger.js';
import type { ConnectionProfile } from '../adapters/redis/connection.js';
import { FAIL_FAST, openSystem, type System } from '../system.js';

export interface BootstrapOptions {
  name: string;
  /** one-off commands (apply, migrate, status...) log lines for people unless LOG_FORMAT says otherwise */
  oneOff: boolean;
  /** already loaded (to check it before anything is opened); default: loaded from the environment */
  config?: Config;
  /** how Redis failures are felt: fail fast (the API, one-off commands) or wait them out (workers) */
  profile?: ConnectionProfile;
}

/** A logger on stderr (stdout stays clean for --json), in the format the command and LOG_FORMAT call for. */
export function commandLogger(config: Config, opts: BootstrapOptions): Logger {
  const format = chooseLogFormat({ configured: config.logFormat, oneOff: opts.oneOff, terminal: process.stderr.isTTY === true });
  return createLogger({ level: config.logLevel, name: opts.name, destination: process.stderr, format });
}

/** Config, the command's logger and the wired system. */
export async function bootstrap(opts: BootstrapOptions): Promise<{ config: Config; logger: Logger; sys: System }> {
  const config = opts.config ?? loadConfig();
  const logger = commandLogger(config, opts);
  // one-off commands report an outage within seconds instead of hanging on it
  const profile = opts.profile ?? (opts.oneOff ? FAIL_FAST : { kind: 'blocking' as const });
  const sys = await openSystem(config, logger, { profile, waitForRedis: opts.oneOff });
  return { config, logger, sys };
}

/** The key that encrypts stored API keys; its absence is a configuration error (exit code 2). */
export function requireSecretKey(config: Config, why: string): Buffer {
  if (config.secretKey) return config.secretKey;
  throw new ConfigError(`QUOTAFLOW_SECRET must be set ${why} (64 hex characters: \`openssl rand -hex 32\`)`);
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
