import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'src/cli/main.ts');

/** A `quotaflow` process started from the sources, its output captured. */
export interface CliProcess {
  child: ChildProcess;
  output(): string;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
}

export interface WorkerProcess {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

/** Starts `quotaflow <args>`; `onOutput` receives the output getter (to collect every process's logs). */
export function spawnCli(args: string[], env: Record<string, string | undefined>, onOutput?: (output: () => string) => void): CliProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const output = (): string => stdout + stderr;
  onOutput?.(output);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Runs `quotaflow <args>` to completion. */
export async function runCli(args: string[], env: Record<string, string | undefined>, onOutput?: (output: () => string) => void): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = spawnCli(args, env, onOutput);
  const code = await p.exited;
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

/** Starts `quotaflow worker <args>` and resolves once it says it started (or fails with its output). */
export async function startWorkerProcess(args: string[], env: Record<string, string | undefined>, opts: { onOutput?: (output: () => string) => void; readyTimeoutMs?: number } = {}): Promise<WorkerProcess> {
  const p = spawnCli(['worker', ...args], env, opts.onOutput);
  const polls = Math.ceil((opts.readyTimeoutMs ?? 15_000) / 50);
  for (let i = 0; i < polls && !p.output().includes('generation worker started'); i++) {
    if (p.child.exitCode !== null) throw new Error(`worker exited early:\n${p.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!p.output().includes('generation worker started')) throw new Error(`worker did not start:\n${p.output()}`);
  return { child: p.child, output: p.output, exited: p.exited };
}

/** Writes a fleet to a file in `dir` and applies it with `quotaflow apply`; throws with the output on failure. */
export async function applyFleetFile(dir: string, fleet: unknown, args: string[], cli: (args: string[]) => Promise<{ code: number | null; stdout: string; stderr: string }>): Promise<void> {
  const file = join(dir, `fleet-${randomBytes(3).toString('hex')}.json`);
  await writeFile(file, JSON.stringify(fleet));
  const r = await cli(['apply', '-f', file, ...args]);
  if (r.code !== 0) throw new Error(`apply failed (${r.code}):\n${r.stdout}${r.stderr}`);
}
