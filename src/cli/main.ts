#!/usr/bin/env node
import { ConfigError } from '../config.js';
import { QuotaflowError, ValidationError, errorMessage } from '../errors.js';
import { COMMANDS, usage } from './commands/index.js';

/** `quotaflow <command> [flags]`; exit 0 ok, 1 failure, 2 bad usage or input. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    console.log(usage());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === 'version') {
    const { createRequire } = await import('node:module');
    console.log((createRequire(import.meta.url)('../../package.json') as { version: string }).version);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`quotaflow: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof ValidationError || err instanceof ConfigError) {
      console.error(`quotaflow ${name}: ${err.message}`);
      return 2;
    }
    const code = err instanceof QuotaflowError ? ` [${err.code}]` : '';
    console.error(`quotaflow ${name}: ${errorMessage(err)}${code}`);
    return 1;
  }
}

// Long-running commands resolve only when they have shut down; exiting here
// also ends any connection a library left open.
process.exit(await main(process.argv.slice(2)));
