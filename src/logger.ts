import { pino, type DestinationStream, type Logger } from 'pino';
import { createScrubber } from './core/scrub.js';

export type { Logger };

export type LogFormat = 'json' | 'pretty';

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

/**
 * The exact values of the fleet's secrets, removed from every line this
 * process logs, whatever field they hide in (a worker sets them when it
 * loads the fleet). The last line of defence: secrets should never reach a
 * log call at all.
 */
export const logScrubber = createScrubber();

/** A destination that scrubs each chunk before writing it. */
function scrubbing(out: NodeJS.WritableStream | DestinationStream): DestinationStream {
  return { write: (chunk: string) => void out.write(logScrubber.scrub(chunk)) };
}

export interface LoggerOptions {
  level: string;
  name?: string;
  destination?: NodeJS.WritableStream;
  /** 'pretty' prints `HH:MM:SS level name: msg key=value…`; default 'json' */
  format?: LogFormat;
}

export function createLogger(options: LoggerOptions): Logger {
  const opts = {
    level: options.level,
    ...(options.name ? { name: options.name } : {}),
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  };
  // pretty lines are made from pino's own JSON output, so redaction has already happened
  if (options.format === 'pretty') return pino(opts, scrubbing(prettyDestination(options.destination ?? process.stdout)));
  return pino(opts, scrubbing(options.destination ?? process.stdout));
}

/**
 * JSON for machines, lines for people: an explicit LOG_FORMAT wins; one-off
 * commands print lines; services print lines only on a terminal.
 */
export function chooseLogFormat(opts: { configured: LogFormat | undefined; oneOff: boolean; terminal: boolean }): LogFormat {
  if (opts.configured) return opts.configured;
  return opts.oneOff || opts.terminal ? 'pretty' : 'json';
}

const LEVELS: Readonly<Record<number, string>> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const HIDDEN = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg', 'v']);

/** A pino destination that rewrites each JSON line as `HH:MM:SS level name: msg key=value…`. */
export function prettyDestination(out: NodeJS.WritableStream): DestinationStream {
  return {
    write(chunk: string) {
      for (const line of chunk.split('\n')) if (line !== '') out.write(`${prettyLine(line)}\n`);
    },
  };
}

/** One pino JSON line as a human-readable line; anything that is not a JSON object passes through unchanged. */
export function prettyLine(json: string): string {
  let rec: unknown;
  try {
    rec = JSON.parse(json);
  } catch {
    return json;
  }
  if (typeof rec !== 'object' || rec === null || Array.isArray(rec)) return json;
  const fields = new Map(Object.entries(rec));
  const time = fields.get('time');
  const level = fields.get('level');
  const name = fields.get('name');
  const msg = fields.get('msg');
  const head = [
    typeof time === 'number' ? clock(time) : '',
    typeof level === 'number' ? (LEVELS[level] ?? String(level)) : '',
    typeof name === 'string' ? `${name}:` : '',
    typeof msg === 'string' ? msg : '',
  ].filter((s) => s !== '');
  const rest = [...fields].filter(([k]) => !HIDDEN.has(k)).map(([k, v]) => `${k}=${show(v)}`);
  return [...head, ...rest].join(' ');
}

function clock(ms: number): string {
  const d = new Date(ms);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

function show(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  if (typeof v === 'object' && v !== null && 'message' in v && typeof v.message === 'string') return JSON.stringify(v.message);
  return JSON.stringify(v) ?? String(v);
}
