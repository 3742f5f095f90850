import { runSimulateCommand } from '../../simulator/index.js';
import { ValidationError } from '../../errors.js';
import { defineCommand } from '../args.js';
import { untilSignal } from '../bootstrap.js';

export const simulate = defineCommand({
  name: 'simulate',
  summary: 'run the Gemini stand-in (limits, error bodies, faults) until SIGTERM/SIGINT',
  flags: {
    fleet: {
      type: 'string',
      short: 'f',
      value: 'FILE',
      description: 'serve the projects, keys and models of a quotaflow fleet file: keys by "secret" or "secretEnv", limits from the catalog for each project\'s tier, overridden by the fleet\'s limits',
    },
    config: { type: 'string', short: 'c', value: 'FILE', description: 'with --fleet: an overlay in the stand-in config format, every field optional (limits, latencyMs, faults, stream, ...); without --fleet: the full stand-in config' },
    port: { type: 'int', short: 'p', min: 0, max: 65_535, default: 0, description: 'port to listen on; 0 picks a free one' },
    host: { type: 'string', default: '127.0.0.1', value: 'ADDR', description: 'address to bind' },
  },
  details:
    'One of --fleet or --config is required. The config format is documented at the top of src/simulator/config.ts; the control plane is at /_sim/* (stats, calls, faults, keys, limits, reset).',
  async run(f) {
    if (f.fleet === undefined && f.config === undefined) throw new ValidationError('simulate needs --fleet FILE or --config FILE (see `quotaflow simulate --help`)');
    const sim = await runSimulateCommand(
      { ...(f.fleet !== undefined ? { fleet: f.fleet } : {}), ...(f.config !== undefined ? { config: f.config } : {}), port: f.port, host: f.host },
      (l) => console.log(l),
    );
    await untilSignal();
    await sim.close();
    return 0;
  },
});
