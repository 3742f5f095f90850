import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DATABASE_ADMIN_URL } from '../helpers/postgres.js';
import { dropPrefix, TEST_REDIS_URL, testPrefix } from '../helpers/redis.js';

/**
 * README "Getting started", command by command, from a fresh directory
 * holding a copy of examples/ and an environment made from .env.example:
 * the stand-in built from the fleet file, apply, a worker, the api, then a
 * question through the CLI and through the HTTP API. Every process is
 * stopped by pid afterwards, whatever happened.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'src/cli/main.ts');
const TSX = import.meta.resolve('tsx');

interface Proc {
  name: string;
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

const procs: Proc[] = [];
let dir: string;
let dbName: string;
let env: Record<string, string>;
const prefix = testPrefix('getting-started');

function quotaflow(name: string, args: string[]): Proc {
  const child = spawn(process.execPath, ['--import', TSX, CLI, ...args], { cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const p: Proc = { name, child, output: () => out, exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))) };
  procs.push(p);
  return p;
}

async function run(args: string[]): Promise<{ code: number | null; output: string }> {
  const p = quotaflow(args[0] ?? 'quotaflow', args);
  const code = await p.exited;
  return { code, output: p.output() };
}

/** Resolves with the first match of `pattern` in a background process's output; fails with that output if it exits first. */
async function waitFor(p: Proc, pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
  for (const until = Date.now() + timeoutMs; Date.now() < until; await new Promise((r) => setTimeout(r, 100))) {
    const m = pattern.exec(p.output());
    if (m) return m;
    if (p.child.exitCode !== null) throw new Error(`${p.name} exited with ${p.child.exitCode}:\n${p.output()}`);
  }
  throw new Error(`${p.name} did not print ${pattern}:\n${p.output()}`);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

async function admin(statement: string): Promise<void> {
  const sql = postgres(TEST_DATABASE_ADMIN_URL, { max: 1, onnotice: () => undefined });
  try {
    await sql.unsafe(statement);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** .env.example as a user fills it in: defaults kept, the blanks given values. */
async function envFromExample(filled: Record<string, string>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const line of (await readFile(join(dir, '.env'), 'utf8')).split('\n')) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m?.[1] !== undefined) out[m[1]] = m[2] ?? '';
  }
  return { ...out, ...filled };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qf-getting-started-'));
  await mkdir(join(dir, 'examples'));
  for (const f of ['fleet.json', 'standin.json']) await copyFile(join(ROOT, 'examples', f), join(dir, 'examples', f));
  await copyFile(join(ROOT, '.env.example'), join(dir, '.env'));
  dbName = `qf_t_${randomBytes(6).toString('hex')}`;
  await admin(`create database ${dbName}`);
  const db = new URL(TEST_DATABASE_ADMIN_URL);
  db.pathname = `/${dbName}`;
  env = await envFromExample({
    REDIS_URL: TEST_REDIS_URL,
    DATABASE_URL: db.toString(),
    QUOTAFLOW_SECRET: randomBytes(32).toString('hex'),
    QUOTAFLOW_PREFIX: prefix,
    QUOTAFLOW_API_PORT: String(await freePort()),
    ACME_KEY_1: `standin-acme-1-${randomBytes(4).toString('hex')}`,
    CENTRAL_KEY_1: `standin-central-1-${randomBytes(4).toString('hex')}`,
    CENTRAL_KEY_2: `standin-central-2-${randomBytes(4).toString('hex')}`,
    CENTRAL_KEY_3: `standin-central-3-${randomBytes(4).toString('hex')}`,
    ACME_TOKEN: randomBytes(32).toString('hex'),
  });
});

afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null && p.child.pid !== undefined) process.kill(p.child.pid, 'SIGTERM');
  const deadline = new Promise((r) => setTimeout(r, 15_000).unref());
  await Promise.race([Promise.all(procs.map((p) => p.exited)), deadline]);
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null && p.child.pid !== undefined) process.kill(p.child.pid, 'SIGKILL');
  await dropPrefix(prefix);
  if (dbName) await admin(`drop database if exists ${dbName} with (force)`);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('README "Getting started"', () => {
  it('stand-in, apply, worker, api, then an answer through the CLI and the HTTP API', async () => {
    // 1. the Gemini stand-in, its projects, keys and models taken from the fleet file
    const standinPort = await freePort();
    const standin = quotaflow('simulate', ['simulate', '--fleet', 'examples/fleet.json', '--config', 'examples/standin.json', '--port', String(standinPort)]);
    await waitFor(standin, /listening on (http:\/\/\S+)/);
    env.GEMINI_BASE_URL = `http://127.0.0.1:${standinPort}`;

    // 2. store the fleet (what would change first)
    const dry = await run(['apply', '-f', 'examples/fleet.json', '--dry-run']);
    expect(dry.code, dry.output).toBe(0);
    expect(dry.output).toContain('dry run');
    const applied = await run(['apply', '-f', 'examples/fleet.json']);
    expect(applied.code, applied.output).toBe(0);
    expect(applied.output).toMatch(/keys +created 4/);

    // 3. a worker, 4. the api
    await waitFor(quotaflow('worker', ['worker']), /generation worker started/);
    await waitFor(quotaflow('api', ['api']), /api listening/);

    // ask through the CLI
    const asked = await run(['enqueue', '--tenant', 'acme', '--text', 'Where is my order?', '--wait']);
    expect(asked.code, asked.output).toBe(0);
    expect(asked.output).toMatch(/ via acme-1: .*Where is my order\?/);

    // and through the HTTP API with acme's token
    const res = await fetch(`http://127.0.0.1:${env.QUOTAFLOW_API_PORT}/v1/generations?wait=30`, {
      method: 'POST',
      headers: { authorization: `Bearer ${env.ACME_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ contents: 'Can I change my address?' }),
    });
    const body = (await res.json()) as { state?: string; result?: { text?: string; keyId?: string } };
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.state).toBe('completed');
    expect(body.result?.text).toContain('Can I change my address?');
  });
});
