import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ValidationError } from '../errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** parseArgs with errors turned into ValidationError (exit code 2). */
export function parseFlags<O extends Options>(args: string[], options: O): ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: false; strict: true }>>['values'] {
  try {
    return parseArgs({ args, options, allowPositionals: false, strict: true }).values;
  } catch (err) {
    throw new ValidationError(err instanceof Error ? err.message : String(err));
  }
}

export function intFlag(value: string | undefined, name: string, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new ValidationError(`--${name} must be a whole number from ${min} to ${max}, got "${value}"`);
  return n;
}

export interface Command {
  summary: string;
  usage: string;
  run(args: string[]): Promise<number>;
}
