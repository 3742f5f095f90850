import { defineCommand } from '../args.js';
import { bootstrap } from '../bootstrap.js';

export const migrate = defineCommand({
  name: 'migrate',
  summary: 'apply database migrations (workers and the api also do this at start; concurrent runs wait for each other)',
  flags: {},
  async run() {
    const { sys } = await bootstrap({ name: 'migrate', oneOff: true });
    await sys.close();
    console.log(`migrations applied (${sys.dbKind})`);
    return 0;
  },
});
