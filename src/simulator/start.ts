/**
 * Starts the stand-in on node:http and hands back its controls.
 */
import type { AddressInfo } from 'node:net';
import type { SimulatorConfig } from './config.js';
import { SimulatorEngine } from './engine.js';
import type { FaultConfig } from './faults-schema.js';
import { createSimulatorServer } from './server.js';
import type { SimulatorStats } from './stats.js';

export interface SimulatorHandle {
  /** Base URL for `httpOptions.baseUrl`, e.g. http://127.0.0.1:41234 */
  url: string;
  port: number;
  close(): Promise<void>;
  stats(): SimulatorStats;
  /** Forgets calls and quota usage, re-seeds the PRNG; faults and key lists stay. */
  reset(): void;
  /** Replaces the fault rules. */
  setFaults(f: FaultConfig): void;
}

export interface StartOptions {
  /** 0 or omitted: any free port. */
  port?: number;
  host?: string;
  /** Clock in epoch ms; inject to drive windows and days by hand. */
  now?: () => number;
}

export async function startSimulator(config: SimulatorConfig, opts: StartOptions = {}): Promise<SimulatorHandle> {
  const engine = new SimulatorEngine(config, opts.now ?? Date.now);
  const server = createSimulatorServer(engine);
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
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
    reset: () => engine.reset(),
    setFaults: (f) => engine.setFaults(f),
  };
}
