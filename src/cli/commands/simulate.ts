import { runSimulateCommand } from '../../simulator/index.js';
import { intFlag, parseFlags, type Command } from '../args.js';
import { untilSignal } from '../bootstrap.js';

const HELP = `Usage:
  quotaflow simulate --fleet FLEET.json [--config OVERLAY.json] [--port N] [--host ADDR]
  quotaflow simulate --config FILE [--port N] [--host ADDR]

Runs the Gemini stand-in (limits, error bodies, faults) until SIGTERM/SIGINT.

Flags:
  -f, --fleet FILE    serve the projects, keys and models of a quotaflow fleet file:
                      keys by "secret" or "secretEnv", limits from the catalog for
                      each project's tier, overridden by the fleet's limits
                      (default: none)
  -c, --config FILE   with --fleet: an overlay in the stand-in config format, every
                      field optional (limits, latencyMs, faults, stream, ...);
                      without --fleet: the full stand-in config (default: none)
  -p, --port N        port to listen on; 0 picks a free one (default: 0)
      --host ADDR     address to bind (default: 127.0.0.1)
  -h, --help          print this help and exit

One of --fleet or --config is required. The config format is documented at the
top of src/simulator/config.ts; the control plane is at /_sim/* (stats, calls,
faults, keys, limits, reset).`;

export const simulate: Command = {
  summary: 'run the Gemini stand-in (limits, error bodies, faults) until SIGTERM/SIGINT',
  usage: 'quotaflow simulate --fleet FLEET.json [--config OVERLAY.json] [--port N] | --config FILE [--port N]',
  async run(args) {
    if (args.includes('--help') || args.includes('-h')) {
      console.log(HELP);
      return 0;
    }
    const f = parseFlags(args, {
      fleet: { type: 'string', short: 'f' },
      config: { type: 'string', short: 'c' },
      port: { type: 'string', short: 'p' },
      host: { type: 'string' },
    });
    const port = intFlag(f.port, 'port', { min: 0, max: 65_535 });
    const sim = await runSimulateCommand(
      { ...(f.fleet !== undefined ? { fleet: f.fleet } : {}), ...(f.config !== undefined ? { config: f.config } : {}), ...(port !== undefined ? { port } : {}), ...(f.host !== undefined ? { host: f.host } : {}) },
      (l) => console.log(l),
    );
    await untilSignal();
    await sim.close();
    return 0;
  },
};
