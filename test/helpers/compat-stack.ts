/**
 * The whole stack behind the drop-in endpoints: the stand-in, Redis,
 * Postgres, worker processes and a real `quotaflow api` process, for the
 * real @google/genai and openai SDKs to talk to.
 */
import type { SimulatorConfig } from '../../src/simulator/index.js';
import { spawnCli, type CliProcess } from './cli-process.js';
import { startStack, type Stack } from './stack.js';

/** How long `quotaflow api` may take to exit after SIGTERM before the stop fails. */
export const API_EXIT_MS = 15_000;

export interface CompatStack extends Stack {
  /** the api's base URL, http://127.0.0.1:PORT */
  url: string;
  api: CliProcess;
  /** the api's output so far */
  apiLogs(): string;
  /** stops the api (SIGTERM, by pid), then the rest; throws when the api did not exit within API_EXIT_MS */
  stop(): Promise<void>;
}

async function startApi(env: Record<string, string>): Promise<{ api: CliProcess; url: string }> {
  const api = spawnCli(['api', '--port', '0', '--host', '127.0.0.1'], env);
  for (let i = 0; i < 600; i++) {
    const m = /"address":"(http:\/\/[^"]+)"[^\n]*api listening|api listening[^\n]*address[=:]"?(http:\/\/[^\s"]+)/.exec(api.output());
    const url = m?.[1] ?? m?.[2];
    if (url) return { api, url };
    if (api.child.exitCode !== null) throw new Error(`api exited early:\n${api.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  api.child.kill('SIGKILL');
  throw new Error(`api did not start:\n${api.output()}`);
}

/** Stops a process by pid with SIGTERM; resolves with whether it exited within `ms` (SIGKILL after that). */
export async function stopWithin(p: { child: CliProcess['child']; exited: Promise<number | null> }, ms: number): Promise<boolean> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return true;
  p.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const inTime = await Promise.race([p.exited.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)))]);
  clearTimeout(timer);
  if (!inTime) {
    p.child.kill('SIGKILL');
    await p.exited;
  }
  return inTime;
}

/**
 * Starts the stack with `fleet` applied, `workers` worker processes and the
 * api. Whatever started is stopped again when a later step fails.
 */
export async function startCompatStack(opts: {
  name: string;
  sim: SimulatorConfig;
  fleet: unknown;
  env?: Record<string, string>;
  workers?: number;
  workerArgs?: string[];
  /** the api's LOG_LEVEL; default debug (callers that hang up are logged there, and tests read it) */
  apiLogLevel?: string;
}): Promise<CompatStack> {
  const stack = await startStack({ name: opts.name, sim: opts.sim, ...(opts.env ? { env: opts.env } : {}) });
  let api: CliProcess | undefined;
  try {
    await stack.applyFleet(opts.fleet);
    for (let i = 0; i < (opts.workers ?? 1); i++) await stack.startWorker(opts.workerArgs ?? ['--concurrency', '8']);
    const started = await startApi({ ...stack.env, LOG_LEVEL: opts.apiLogLevel ?? 'debug' });
    api = started.api;
    const apiProcess = api;
    const stopRest = stack.stop.bind(stack);
    const logs = stack.logs.bind(stack);
    return Object.assign(stack, {
      url: started.url,
      api: apiProcess,
      apiLogs: () => apiProcess.output(),
      logs: () => `${logs()}\n--- api ---\n${apiProcess.output()}`,
      async stop() {
        const inTime = await stopWithin(apiProcess, API_EXIT_MS);
        await stopRest();
        if (!inTime) throw new Error(`quotaflow api did not exit within ${API_EXIT_MS} ms of SIGTERM`);
      },
    });
  } catch (err) {
    if (api) await stopWithin(api, 1_000);
    await stack.stop();
    throw err;
  }
}
