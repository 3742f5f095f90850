import { parseFlags, type Command } from '../args.js';
import { bootstrap } from '../bootstrap.js';

export const migrate: Command = {
  summary: 'apply database migrations (workers and the api also do this at start)',
  usage: 'quotaflow migrate',
  async run(args) {
    parseFlags(args, {});
    const { sys } = await bootstrap({ name: 'migrate' });
    await sys.close();
    console.log(`migrations applied (${sys.dbKind})`);
    return 0;
  },
};
