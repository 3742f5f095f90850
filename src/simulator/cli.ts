/**
 * Glue for `quotaflow simulate`: `--config FILE` (a full stand-in config) or
 * `--fleet FLEET.json [--config OVERLAY.json]`. Output goes through `out` so
 * src never prints; secrets never reach it.
 */
import { environmentLookup } from '../config.js';
import { ValidationError } from '../errors.js';
import { loadSimulatorConfigFile, parseOverlay, readJsonFile, type SimulatorConfig } from './config.js';
import { simulatorConfigFromFleet, type EnvLookup } from './fleet-source.js';
import { startSimulator, type SimulatorHandle } from './start.js';

export interface SimulateArgs {
  /** A full stand-in config; with `fleet`, an overlay on top of it. */
  config?: string;
  /** A quotaflow fleet file to derive projects, keys and models from. */
  fleet?: string;
  port?: number;
  host?: string;
}

export async function loadSimulateConfig(args: SimulateArgs, env: EnvLookup = environmentLookup): Promise<SimulatorConfig> {
  if (args.fleet === undefined) {
    if (args.config === undefined) throw new ValidationError('simulate needs --config FILE or --fleet FILE (see quotaflow simulate --help)');
    return loadSimulatorConfigFile(args.config);
  }
  const fleet = await readJsonFile(args.fleet, 'fleet file');
  const overlay = args.config === undefined ? {} : parseOverlay(await readJsonFile(args.config, 'simulator config overlay'));
  return simulatorConfigFromFleet(fleet, overlay, env);
}

const MAX_LISTED_PROJECTS = 6;

/** One line: projects (with tiers), key count and models; never a secret. */
export function describeServed(config: SimulatorConfig): string {
  const keys = config.projects.reduce((n, p) => n + p.keys.length, 0);
  const listed = config.projects.slice(0, MAX_LISTED_PROJECTS).map((p) => `${p.id} ${p.tier}`);
  const more = config.projects.length - listed.length;
  const projects = `${config.projects.length} projects (${listed.join(', ')}${more > 0 ? `, +${more} more` : ''})`;
  return `serving ${projects}, ${keys} keys, models: ${Object.keys(config.models).join(', ')}`;
}

export async function runSimulateCommand(
  args: SimulateArgs,
  out: (line: string) => void,
  env: EnvLookup = environmentLookup,
): Promise<SimulatorHandle> {
  const config = await loadSimulateConfig(args, env);
  const sim = await startSimulator(config, { ...(args.port !== undefined ? { port: args.port } : {}), ...(args.host !== undefined ? { host: args.host } : {}) });
  out(`Gemini stand-in listening on ${sim.url}`);
  out(`  ${describeServed(config)}`);
  out(`  point GEMINI_BASE_URL at ${sim.url}; control plane at ${sim.url}/_sim/stats`);
  return sim;
}
