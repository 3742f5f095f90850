import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Paths pino censors wherever they appear. Secrets should never reach a log
 * call in the first place; this is the second line of defence.
 */
export const REDACT_PATHS = [
  'secret',
  'apiKey',
  'key.secret',
  '*.secret',
  '*.apiKey',
  '*.secretEnc',
  'headers["x-goog-api-key"]',
  'req.headers.authorization',
  'req.headers["x-goog-api-key"]',
  'authorization',
  'token',
  '*.token',
];

export function createLogger(options: { level: string; name?: string; destination?: NodeJS.WritableStream }): Logger {
  const opts = {
    level: options.level,
    ...(options.name ? { name: options.name } : {}),
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  };
  return options.destination ? pino(opts, options.destination) : pino(opts);
}
