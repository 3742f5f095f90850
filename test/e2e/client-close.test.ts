import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matchedConfigs } from '../helpers/fleets.js';
import { TEST_REDIS_URL } from '../helpers/redis.js';
import { ROOT, startStack, type Stack } from '../helpers/stack.js';

/**
 * A producer script that generates one answer and calls close() must end by
 * itself: every connection the client opened (the queue's, and the one the
 * QueueEvents reader opened for waiting) is closed. Nothing calls
 * process.exit, so a connection left open keeps the process alive and the
 * test's own timeout fails it.
 */
const PRO = 'gemini-2.5-flash';
const m = matchedConfigs({
  models: [PRO],
  projects: { 'p-1': { [PRO]: { rpm: 100, tpm: 1_000_000, rpd: 1000 } } },
  tenants: [{ id: 'acme', keyMode: 'central-only' }],
  keys: [{ id: 'central-1', tenant: null, project: 'p-1' }],
});

let stack: Stack;
let dir: string;
const children: Array<ReturnType<typeof spawn>> = [];

beforeAll(async () => {
  stack = await startStack({ name: 'client-close', sim: m.sim });
  await stack.applyFleet(m.fleet);
  await stack.startWorker();
  dir = await mkdtemp(join(tmpdir(), 'qf-client-close-'));
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const SCRIPT = (indexUrl: string): string => `
import { createClient } from ${JSON.stringify(indexUrl)};
const client = createClient({ redisUrl: process.env.REDIS_URL, prefix: process.env.QUOTAFLOW_PREFIX });
const r = await client.generate({ tenantId: 'acme', contents: 'hello from a script' }, { timeoutMs: 30_000 });
console.log(JSON.stringify({ text: r.text, keyId: r.keyId }));
await client.close();
`;

describe('createClient().close()', () => {
  it('lets a script that generated an answer exit by itself with code 0', async () => {
    const file = join(dir, 'producer.mjs');
    await writeFile(file, SCRIPT(pathToFileURL(join(ROOT, 'src/index.ts')).href));
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      cwd: ROOT,
      env: { ...process.env, REDIS_URL: TEST_REDIS_URL, QUOTAFLOW_PREFIX: stack.prefix },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code, out).toBe(0);
    const answer = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as { text?: string; keyId?: string };
    expect(answer.keyId).toBe('central-1');
    expect(answer.text).toContain('hello from a script');
  });
});
