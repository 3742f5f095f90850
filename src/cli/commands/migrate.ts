import { loadConfig } from '../../config.js';
import { migrateOnly } from '../../system.js';
import { defineCommand } from '../args.js';
import { commandLogger } from '../bootstrap.js';

export const migrate = defineCommand({
  name: 'migrate',
  summary: 'apply database migrations (workers and the api also do this at start; concurrent runs wait for each other)',
  flags: {},
  async run() {
    const config = loadConfig();
    const kind = await migrateOnly(config, commandLogger(config, { name: 'migrate', oneOff: true }));
    console.log(`migrations applied (${kind})`);
    return 0;
  },
});
