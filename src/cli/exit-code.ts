import { ConfigError } from '../config.js';
import { QuotaflowError, ValidationError } from '../errors.js';

/** Error codes that mean the input (flags, files, configuration) was wrong rather than the run. */
const BAD_INPUT_CODES: ReadonlySet<string> = new Set(['invalid_input', 'config_invalid']);

/** Exit code of a failed command: 2 for bad input of any kind (flags, files, configuration), 1 for runtime failures. */
export function exitCodeOf(err: unknown): 1 | 2 {
  if (err instanceof ValidationError || err instanceof ConfigError) return 2;
  return err instanceof QuotaflowError && BAD_INPUT_CODES.has(err.code) ? 2 : 1;
}
