/**
 * `quotaflow simulate --fleet` as a user runs it: a real process started from
 * the sources, reached with the real SDK, stopped by pid.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiError, GoogleGenAI } from '@google/genai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveLimits } from '../../src/core/catalog.js';
import { runCli, spawnCli, type CliProcess } from '../helpers/cli-process.js';

// Assembled at runtime so no key-shaped literal sits in the sources.
const central = ['sim', 'central', 'secret', Date.now().toString(36)].join('-');
const solo = ['sim', 'solo', 'secret', Date.now().toString(36)].join('-');

const fleet = {
  models: ['gemini-2.5-pro', 'gemini-2.5-flash'],
  projects: [{ id: 'proj-central', tier: 'tier1', limits: { 'gemini-2.5-pro': { rpm: 3 } } }],
  tenants: [{ id: 'acme', models: ['gemini-2.5-flash-lite'] }],
  keys: [
    { id: 'central-1', project: 'proj-central', secretEnv: 'SIM_CLI_CENTRAL_KEY' },
    { id: 'solo', tenant: 'acme', secret: solo },
  ],
};
const overlay = { models: { 'gemini-2.5-flash': { rpm: 7 } }, quotaValueInErrors: true };

let proc: CliProcess | undefined;
let url = '';

async function waitForUrl(p: CliProcess): Promise<string> {
  for (let i = 0; i < 300; i++) {
    const m = /listening on (http:\/\/\S+)/.exec(p.stdout());
    if (m?.[1]) return m[1];
    if (p.child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`simulate did not start:\n${p.output()}`);
}

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sim-cli-'));
  await writeFile(join(dir, 'fleet.json'), JSON.stringify(fleet));
  await writeFile(join(dir, 'overlay.json'), JSON.stringify(overlay));
  proc = spawnCli(['simulate', '--fleet', join(dir, 'fleet.json'), '--config', join(dir, 'overlay.json'), '--port', '0'], { SIM_CLI_CENTRAL_KEY: central });
  url = await waitForUrl(proc);
}, 30_000);

afterAll(async () => {
  const p = proc;
  if (!p?.child.pid || p.child.exitCode !== null) return;
  process.kill(p.child.pid, 'SIGTERM');
  expect(await p.exited).toBe(0);
});

describe('quotaflow simulate --fleet', () => {
  it('prints what it serves in one line, without a secret', () => {
    const out = proc?.output() ?? '';
    expect(out).toMatch(/serving 2 projects \(proj-central tier1, key:solo free\), 2 keys, models: gemini-2\.5-pro, gemini-2\.5-flash, gemini-2\.5-flash-lite/);
    expect(out).not.toContain(central);
    expect(out).not.toContain(solo);
  });

  it('serves the keys of the fleet (secretEnv and secret) with the fleet limits, the catalog and the overlay', async () => {
    const ai = new GoogleGenAI({ apiKey: central, httpOptions: { baseUrl: url, retryOptions: { attempts: 1 } } });
    for (let i = 0; i < 3; i++) await ai.models.generateContent({ model: 'gemini-2.5-pro', contents: `call ${i}` });
    const err = await ai.models.generateContent({ model: 'gemini-2.5-pro', contents: 'one too many' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err instanceof ApiError ? err.message : '').toContain('"quotaValue":"3"');

    const soloAi = new GoogleGenAI({ apiKey: solo, httpOptions: { baseUrl: url, retryOptions: { attempts: 1 } } });
    expect((await soloAi.models.generateContent({ model: 'gemini-2.5-flash-lite', contents: 'hi' })).text).toBe('[gemini-2.5-flash-lite] echo: hi');

    const limits = async (project: string, model: string): Promise<unknown> => ((await (await fetch(`${url}/_sim/limits?project=${project}&model=${model}`)).json()) as { limits: unknown }).limits;
    const { rpm, tpm, rpd } = resolveLimits({ tier: 'free', model: 'gemini-2.5-flash-lite' });
    expect(await limits('key:solo', 'gemini-2.5-flash-lite')).toEqual({ rpm, tpm, rpd });
    expect(await limits('proj-central', 'gemini-2.5-flash')).toMatchObject({ rpm: 7 });
    const calls = (await (await fetch(`${url}/_sim/calls`)).json()) as { calls: Array<{ keyLabel: string }> };
    expect(calls.calls.map((c) => c.keyLabel)).toEqual(['central-1', 'central-1', 'central-1', 'central-1', 'solo']);
  });

  it('--help prints every flag with its default and exits 0', async () => {
    const r = await runCli(['simulate', '--help'], {});
    expect(r.code).toBe(0);
    for (const flag of ['--fleet FILE', '--config FILE', '--port N', '--host ADDR', '--help']) expect(r.stdout).toContain(flag);
    expect(r.stdout).toContain('[default: 0]');
    expect(r.stdout).toContain('[default: 127.0.0.1]');
  }, 30_000);

  it('an unset secretEnv is a clear error naming the variable (exit 2)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sim-cli-bad-'));
    await writeFile(join(dir, 'fleet.json'), JSON.stringify(fleet));
    const r = await runCli(['simulate', '--fleet', join(dir, 'fleet.json')], { SIM_CLI_CENTRAL_KEY: '' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('environment variable SIM_CLI_CENTRAL_KEY is not set');
    expect(r.stderr).not.toContain(solo);
  }, 30_000);
});
