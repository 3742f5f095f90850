import type { Command } from '../args.js';
import { api } from './api.js';
import { apply } from './apply.js';
import { catalog } from './catalog.js';
import { demo } from './demo.js';
import { enqueue } from './enqueue.js';
import { maintenance } from './maintenance.js';
import { migrate } from './migrate.js';
import { rekey } from './rekey.js';
import { simulate } from './simulate.js';
import { status } from './status.js';
import { usage as usageCommand } from './usage.js';
import { worker } from './worker.js';

export const COMMANDS: Record<string, Command> = { apply, migrate, worker, enqueue, status, usage: usageCommand, simulate, demo, api, maintenance, catalog, rekey };

export function usage(): string {
  const rows = Object.values(COMMANDS).map((c) => `  ${c.usage}\n      ${c.summary}`);
  return [
    'usage: quotaflow <command> [flags]',
    '',
    'commands:',
    ...rows,
    '',
    '`quotaflow help <command>` or `quotaflow <command> --help` lists every flag with its default.',
    'Configuration comes from the environment; see README "Configuration" and .env.example.',
  ].join('\n');
}
