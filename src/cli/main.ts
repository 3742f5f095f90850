#!/usr/bin/env node
import { QuotaflowError, errorMessage } from '../errors.js';
import { helpText, wantsHelp } from './args.js';
import { COMMANDS, usage } from './commands/index.js';
import { exitCodeOf } from './exit-code.js';

/** `quotaflow <command> [flags]`; exit 0 ok, 1 failure, 2 bad usage or input. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h') {
    console.log(usage());
    return name ? 0 : 2;
  }
  if (name === 'help') return help(rest[0]);
  if (name === '--version' || name === 'version') {
    const { createRequire } = await import('node:module');
    console.log((createRequire(import.meta.url)('../../package.json') as { version: string }).version);
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    console.error(`quotaflow: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  if (wantsHelp(rest, command.flags)) {
    console.log(helpText(command));
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    const code = exitCodeOf(err);
    const tag = code === 1 && err instanceof QuotaflowError ? ` [${err.code}]` : '';
    console.error(`quotaflow ${name}: ${errorMessage(err)}${tag}`);
    return code;
  }
}

function help(name: string | undefined): number {
  if (name === undefined) {
    console.log(usage());
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    console.error(`quotaflow: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  console.log(helpText(command));
  return 0;
}

// Long-running commands resolve only when they have shut down; exiting here
// also ends any connection a library left open.
process.exit(await main(process.argv.slice(2)));
