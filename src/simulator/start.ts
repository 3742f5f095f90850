/**
 * Starts the stand-in on node:http and hands back its controls.
 */
import type { AddressInfo } from 'node:net';
import type { LimitOverride, ModelLimits, SimulatorConfig } from './config.js';
import { SimulatorEngine } from './engine.js';
import { parseFaultConfig, type FaultConfigInput } from './faults-schema.js';
import type { KeyLists } from './key-directory.js';
import type { WriterHooks } from './reply-writer.js';
import { createSimulatorServer } from './server.js';
import type { SimCall, SimulatorStats } from './stats.js';

export interface SimulatorHandle {
  /** Base URL for `httpOptions.baseUrl`, e.g. http://127.0.0.1:41234 */
  url: string;
  port: number;
  close(): Promise<void>;
  /** Counts and the call log (without request bodies). */
  stats(): SimulatorStats;
  /** The call log, oldest first; `last`: only the last N; `withBodies`: include recorded request bodies. */
  calls(opts?: { withBodies?: boolean; last?: number }): SimCall[];
  /** Forgets calls and quota usage, re-seeds the PRNG; faults, key lists and runtime limits stay. */
  reset(): void;
  /** Replaces the fault rules; throws ValidationError when they are invalid. */
  setFaults(f: FaultConfigInput): void;
  /** Replaces the given invalid/forbidden key lists; an omitted list stays. */
  setKeyLists(lists: KeyLists): void;
  /** Changes a (project, model)'s limits from the next call on; returns the new limits. Throws ValidationError for an unknown project or model. */
  setLimits(project: string, model: string, limits: LimitOverride): ModelLimits;
  /** The limits a (project, model) is held to now; undefined when either is unknown. */
  limits(project: string, model: string): ModelLimits | undefined;
}

export interface StartOptions {
  /** 0 or omitted: any free port. */
  port?: number;
  host?: string;
  /** Clock in epoch ms; inject to drive windows and days by hand. */
  now?: () => number;
  /** Called right after each stream chunk is handed to the socket (tests observe timing with it). */
  onChunkWritten?: WriterHooks['onChunkWritten'];
}

/** Benchmarks open a thousand connections at once; Node's default backlog (511) would refuse some. */
const LISTEN_BACKLOG = 4096;

export async function startSimulator(config: SimulatorConfig, opts: StartOptions = {}): Promise<SimulatorHandle> {
  const engine = new SimulatorEngine(config, opts.now ?? Date.now);
  const server = createSimulatorServer(engine, opts.onChunkWritten ? { onChunkWritten: opts.onChunkWritten } : {});
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: opts.port ?? 0, host, backlog: LISTEN_BACKLOG }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Keep-alive sockets of SDK clients would otherwise hold close() open.
        server.closeAllConnections();
      }),
    stats: () => engine.stats(),
    calls: (o) => engine.calls(o),
    reset: () => engine.reset(),
    setFaults: (f) => engine.setFaults(parseFaultConfig(f)),
    setKeyLists: (lists) => engine.setKeyLists(lists),
    setLimits: (project, model, limits) => engine.setLimits(project, model, limits),
    limits: (project, model) => engine.limitsOf(project, model),
  };
}
