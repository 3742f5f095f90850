import { runSimulateCommand } from '../../simulator/index.js';
import { ValidationError } from '../../errors.js';
import { intFlag, parseFlags, type Command } from '../args.js';
import { untilSignal } from '../bootstrap.js';

export const simulate: Command = {
  summary: 'run the Gemini stand-in (limits, error bodies, faults) until SIGTERM/SIGINT',
  usage: 'quotaflow simulate --config FILE [--port N]',
  async run(args) {
    const f = parseFlags(args, { config: { type: 'string', short: 'c' }, port: { type: 'string', short: 'p' } });
    if (!f.config) throw new ValidationError('simulate needs --config FILE (see README "Gemini stand-in")');
    const port = intFlag(f.port, 'port', { min: 0, max: 65_535 });
    const sim = await runSimulateCommand({ config: f.config, ...(port !== undefined ? { port } : {}) }, (l) => console.log(l));
    await untilSignal();
    await sim.close();
    return 0;
  },
};
