import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareIds } from '../../src/adapters/redis/job-events.js';
import { spawnCli } from '../helpers/cli-process.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { tenantConfigs, until } from '../helpers/tenants.js';

/**
 * `quotaflow enqueue` as a user runs it (real processes): `--stream` prints
 * the answer as it arrives, `--json --stream` one JSON line per event,
 * `--count` streams each message in turn, `--file` sends a whole request,
 * and `--wait` with no worker alive says so at once and still waits.
 */
const FLASH = 'gemini-2.5-flash';
const AMPLE = { [FLASH]: { rpm: 10_000, tpm: 100_000_000, rpd: 100_000 } };
const cfg = tenantConfigs({
  models: [FLASH],
  projects: { p1: AMPLE },
  tenants: [{ id: 'alpha', keyMode: 'central-only' }, { id: 'beta', keyMode: 'central-only' }],
  keys: [{ id: 'c1', tenant: null, project: 'p1' }],
  sim: { stream: { chunkChars: 4, chunkIntervalMs: 30 }, recordBodies: true },
});
const answer = (text: string): string => `[${FLASH}] echo: ${text.slice(0, 80)}`;

let tick = 0;
const written: number[] = [];
let stack: Stack;
let dir: string;

beforeAll(async () => {
  stack = await startStack({ name: 'streaming-cli', sim: cfg.sim, simOptions: { onChunkWritten: () => void written.push(++tick) } });
  await stack.applyFleet(cfg.fleet);
  dir = await mkdtemp(join(tmpdir(), 'qf-stream-cli-'));
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});

/** Runs `quotaflow enqueue …`, noting (on the test's clock) when stdout first carried answer text. */
async function enqueue(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; firstText: number }> {
  const p = spawnCli(['enqueue', ...args], stack.env);
  let firstText = 0;
  p.child.stdout?.on('data', (d: Buffer) => {
    if (firstText === 0 && d.toString().trim() !== '') firstText = ++tick;
  });
  try {
    const code = await p.exited;
    return { code, stdout: p.stdout(), stderr: p.stderr(), firstText };
  } finally {
    if (p.child.exitCode === null) p.child.kill('SIGTERM');
  }
}

describe('no worker alive', () => {
  it('--wait warns on stderr at once that no worker runs, and still waits for the answer', async () => {
    const text = 'waiting for a worker';
    const p = spawnCli(['enqueue', '--tenant', 'alpha', '--text', text, '--wait'], stack.env);
    try {
      await until(() => p.stderr().includes('no worker is running') || p.child.exitCode !== null, 'the warning', 60_000);
      expect(p.stderr()).toContain('start one with `quotaflow worker`');
      expect(p.child.exitCode).toBeNull();
      expect(stack.sim.stats().totalCalls).toBe(0);
      await stack.startWorker(['--concurrency', '4']);
      expect(await p.exited).toBe(0);
      expect(p.stdout()).toContain(answer(text));
    } finally {
      if (p.child.exitCode === null) p.child.kill('SIGTERM');
    }
  });

  it('with a worker alive there is no warning', async () => {
    const r = await enqueue(['--tenant', 'alpha', '--text', 'quiet', '--wait']);
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain('no worker');
  });
});

describe('--stream', () => {
  it('prints the answer as it arrives: text on stdout before the stand-in wrote its last chunk', async () => {
    const text = 'Stream this answer to my terminal, please, bit by bit, slowly enough.';
    written.length = 0;
    const r = await enqueue(['--tenant', 'alpha', '--text', text, '--stream']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${answer(text)}\n`);
    expect(written.length).toBeGreaterThan(10);
    expect(r.firstText).toBeGreaterThan(0);
    expect(r.firstText).toBeLessThan(Math.max(...written));
  });

  it('--json --stream: one JSON line per event, ids increasing, chunks joining into the result', async () => {
    const text = 'json lines please';
    const r = await enqueue(['--tenant', 'alpha', '--text', text, '--stream', '--json']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { jobId: string; type: string; id: string; text?: string; result?: { text: string; jobId: string } });
    expect(lines.length).toBeGreaterThan(2);
    expect(lines.map((l) => l.type)).toEqual([...lines.slice(0, -1).map(() => 'chunk'), 'done']);
    expect(new Set(lines.map((l) => l.jobId)).size).toBe(1);
    expect(lines.every((l, i) => i === 0 || compareIds(lines[i - 1]?.id ?? '', l.id) < 0)).toBe(true);
    const done = lines.at(-1);
    expect(done?.result?.jobId).toBe(done?.jobId);
    expect(lines.map((l) => l.text ?? '').join('')).toBe(answer(text));
    expect(done?.result?.text).toBe(answer(text));
  });

  it('--count streams each message in turn', async () => {
    const r = await enqueue(['--tenant', 'alpha', '--text', 'several', '--stream', '--count', '3']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    lines.forEach((line, i) => expect(line).toMatch(new RegExp(`^\\S+: ${answer(`several (#${i + 1})`).replace(/[[\]().]/g, '\\$&')}$`)));
  });

  it('a failed job prints FAILED with its reason and exits 1', async () => {
    const r = await enqueue(['--tenant', 'alpha', '--text', 'fail [[simulate:bad-request]]', '--stream']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAILED invalid_request/);
  });
});

describe('--file', () => {
  const request = {
    contents: [{ role: 'user', parts: [{ text: 'From a file' }] }],
    systemInstruction: { parts: [{ text: 'Answer briefly.' }] },
    generationConfig: { temperature: 0.2, maxOutputTokens: 200 },
    labels: { source: 'cli-test' },
  };

  it('sends the whole request; the tenant comes from the file or --tenant', async () => {
    const withTenant = join(dir, 'with-tenant.json');
    const without = join(dir, 'without-tenant.json');
    await writeFile(withTenant, JSON.stringify({ ...request, tenantId: 'beta' }));
    await writeFile(without, JSON.stringify(request));
    const before = stack.sim.calls({ withBodies: true }).length;
    const a = await enqueue(['--file', withTenant, '--wait', '--json']);
    const b = await enqueue(['--file', without, '--tenant', 'beta', '--stream']);
    expect(a.code).toBe(0);
    expect(JSON.parse(a.stdout)).toMatchObject({ ok: true, text: answer('From a file') });
    expect(b.code).toBe(0);
    expect(b.stdout).toBe(`${answer('From a file')}\n`);
    const bodies = stack.sim.calls({ withBodies: true }).slice(before).map((c) => c.body as Record<string, unknown>);
    expect(bodies).toHaveLength(2);
    for (const body of bodies) {
      expect(body).toMatchObject({ contents: request.contents, systemInstruction: request.systemInstruction, generationConfig: request.generationConfig, labels: request.labels });
    }
  });

  it('a tenant in the file and a different --tenant: exit 2, nothing enqueued', async () => {
    const file = join(dir, 'mismatch.json');
    await writeFile(file, JSON.stringify({ ...request, tenantId: 'beta' }));
    const jobKeys = async (): Promise<string[]> => (await stack.redis.keys(`${stack.prefix}:*`)).sort();
    const jobs = await jobKeys();
    const r = await enqueue(['--file', file, '--tenant', 'alpha', '--wait']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('differs from --tenant');
    expect(await jobKeys()).toEqual(jobs);
  });

  it('--text with --file, or neither: exit 2', async () => {
    const file = join(dir, 'with-tenant.json');
    expect((await enqueue(['--file', file, '--text', 'both'])).code).toBe(2);
    expect((await enqueue(['--tenant', 'alpha'])).code).toBe(2);
  });
});

describe('unchanged without --stream', () => {
  it('--json prints {"jobId"} per job, and with --wait {"ok":true,…}', async () => {
    const queued = await enqueue(['--tenant', 'alpha', '--text', 'plain', '--json', '--count', '2']);
    expect(queued.code).toBe(0);
    const lines = queued.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => Object.keys(l))).toEqual([['jobId'], ['jobId']]);
    const waited = await enqueue(['--tenant', 'alpha', '--text', 'plain', '--json', '--wait']);
    expect(JSON.parse(waited.stdout)).toMatchObject({ ok: true, text: answer('plain') });
  });
});
