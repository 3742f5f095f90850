import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/commands/index.js';
import { runCli } from '../helpers/cli-process.js';
import { EXAMPLE_FLEET } from '../helpers/postgres.js';

/** The real `quotaflow` binary: --help for every command, exit code 2 for every kind of bad input, log format. */
let dir: string;
let fleetFile: string;
const NO_SERVICES = { DATABASE_URL: '', QUOTAFLOW_SECRET: '', LOG_FORMAT: '', REDIS_URL: 'redis://127.0.0.1:1' };
const cli = (args: string[], env: Record<string, string> = {}): ReturnType<typeof runCli> => runCli(args, { ...NO_SERVICES, QUOTAFLOW_DATA_DIR: dir, ...env });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qf-cli-'));
  fleetFile = join(dir, 'fleet.json');
  await writeFile(fleetFile, JSON.stringify(EXAMPLE_FLEET));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('quotaflow <command> --help', () => {
  it('prints usage and every flag with its default, and exits 0, for every command', async () => {
    const names = Object.keys(COMMANDS);
    // four processes at a time: a dozen node processes started at once starve a small machine
    const runs: Awaited<ReturnType<typeof cli>>[] = [];
    for (let i = 0; i < names.length; i += 4) runs.push(...(await Promise.all(names.slice(i, i + 4).map((n) => cli([n, n === 'enqueue' ? '-h' : '--help'])))));
    runs.forEach((r, i) => {
      const name = names[i] ?? '';
      expect(r.code, `${name}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toContain(`usage: quotaflow ${name}`);
      for (const flag of Object.keys(COMMANDS[name]?.flags ?? {})) expect(r.stdout, name).toMatch(new RegExp(`--${flag}\\b.*\\[default: `));
    });
  }, 300_000);

  it('`quotaflow help <command>` prints the same text; an unknown command exits 2', async () => {
    const [a, b, unknown] = await Promise.all([cli(['help', 'apply']), cli(['apply', '--help']), cli(['help', 'nope'])]);
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "nope"');
  });
});

describe('exit code 2 for bad input, before anything is opened', () => {
  it('a missing or malformed QUOTAFLOW_SECRET', async () => {
    const [missing, malformed, worker] = await Promise.all([
      cli(['apply', '-f', fleetFile]),
      cli(['apply', '-f', fleetFile], { QUOTAFLOW_SECRET: 'not-hex' }),
      cli(['worker']),
    ]);
    for (const r of [missing, malformed, worker]) {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain('QUOTAFLOW_SECRET');
    }
  });

  it('a missing file, bad flags, and a file that is not JSON (named by line and column, never quoted)', async () => {
    const secret = `sk-${randomBytes(8).toString('hex')}`;
    const broken = join(dir, 'broken.json');
    await writeFile(broken, `{\n  "models": ["m"],\n  "keys": [{ "id": "k", "secret": ${secret} }]\n}`);
    const env = { QUOTAFLOW_SECRET: randomBytes(32).toString('hex') };
    const [missing, flags, notJson] = await Promise.all([
      cli(['apply', '-f', join(dir, 'nope.json')], env),
      cli(['apply', '--file'], env),
      cli(['apply', '-f', broken], env),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read');
    expect(flags.code).toBe(2);
    expect(flags.stderr).toContain('--file needs a value');
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toContain('line 3, column');
    expect(notJson.stdout + notJson.stderr).not.toContain(secret);
  });
});

describe('log format of one-off commands', () => {
  it('prints lines for people by default and JSON with LOG_FORMAT=json', async () => {
    // the embedded database's warning is the one line `migrate` logs without a DATABASE_URL
    const [pretty, json] = await Promise.all([cli(['migrate'], { QUOTAFLOW_DATA_DIR: join(dir, 'a') }), cli(['migrate'], { QUOTAFLOW_DATA_DIR: join(dir, 'b'), LOG_FORMAT: 'json' })]);
    expect(pretty.code, pretty.stderr).toBe(0);
    expect(pretty.stderr).toMatch(/^\d\d:\d\d:\d\d WARN migrate: DATABASE_URL is unset/m);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stderr.trim().split('\n')[0] ?? '')).toMatchObject({ level: 40, name: 'migrate' });
  });
});
