/**
 * Glue for `quotaflow simulate --config FILE [--port N]`: the CLI owner wires
 * argument parsing to this; output goes through `out` so src never prints.
 */
import { loadSimulatorConfigFile } from './config.js';
import { startSimulator, type SimulatorHandle } from './start.js';

export async function runSimulateCommand(
  args: { config: string; port?: number },
  out: (line: string) => void,
): Promise<SimulatorHandle> {
  const config = await loadSimulatorConfigFile(args.config);
  const sim = await startSimulator(config, args.port === undefined ? {} : { port: args.port });
  const keys = config.projects.reduce((n, p) => n + p.keys.length, 0);
  out(`Gemini stand-in listening on ${sim.url}`);
  out(`  ${config.projects.length} projects, ${keys} keys, models: ${Object.keys(config.models).join(', ')}`);
  out(`  point GEMINI_BASE_URL at ${sim.url}; control plane at ${sim.url}/_sim/stats`);
  return sim;
}
