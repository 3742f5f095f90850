import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { catalog } from '../../src/cli/commands/catalog.js';
import { ValidationError } from '../../src/errors.js';
import { runCli } from '../helpers/cli-process.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qf-catalog-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
});

async function file(name: string, doc: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof doc === 'string' ? doc : JSON.stringify(doc));
  return path;
}

/** Runs the command in-process and returns what it printed. */
async function run(args: string[]): Promise<string> {
  const lines: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.map(String).join(' ')));
  expect(await catalog.run(args)).toBe(0);
  return lines.join('\n');
}

function keysSorted(value: unknown, path = '$'): string[] {
  if (typeof value !== 'object' || value === null) return [];
  if (Array.isArray(value)) return value.flatMap((v, i) => keysSorted(v, `${path}[${i}]`));
  const keys = Object.keys(value);
  const bad = keys.some((k, i) => i > 0 && (keys[i - 1] ?? '') > k) ? [path] : [];
  return [...bad, ...Object.entries(value).flatMap(([k, v]) => keysSorted(v, `${path}.${k}`))];
}

describe('quotaflow catalog', () => {
  it('--json is stable: keys sorted at every depth, same bytes on every run', async () => {
    const a = await run(['--json']);
    const b = await run(['--json']);
    expect(a).toBe(b);
    const doc: unknown = JSON.parse(a);
    expect(keysSorted(doc)).toEqual([]);
    expect(doc).toMatchObject({ layers: [{ source: 'catalog' }], floor: { rpm: 5 }, models: { 'gemini-2.5-flash': { limits: { free: { rpm: { value: 10, source: 'catalog', guess: false } } } } } });
  });

  it('applies the override file and a fleet preview, reporting the layer of every value', async () => {
    const override = await file('override.json', {
      models: { 'gemini-2.5-pro': { limits: { tier1: { rpm: 300, source: 'estimate: our AI Studio quota page' } } }, 'our-model': { limits: { tier1: { rpm: 60, source: 'estimate: ours' } } } },
    });
    const fleet = await file('fleet.json', { models: ['gemini-2.5-pro'], catalog: { models: { 'gemini-2.5-pro': { limits: { tier1: { tpm: 3_000_000, source: 'https://example.test/quota' } } } } } });
    const out: unknown = JSON.parse(await run(['--json', '--tier', 'tier1', '--model', 'models/gemini-2.5-pro', '--file', override, '--fleet', fleet]));
    expect(out).toMatchObject({
      layers: [{ source: 'catalog' }, { source: 'catalog-file', name: override }, { source: 'fleet-catalog' }],
      models: {
        'gemini-2.5-pro': {
          limits: {
            tier1: {
              rpm: { value: 300, source: 'catalog-file', guess: true },
              tpm: { value: 3_000_000, source: 'fleet-catalog', guess: false },
              rpd: { value: 10_000, source: 'catalog' },
            },
          },
        },
      },
    });
    expect(Object.keys(z.object({ models: z.record(z.string(), z.unknown()) }).parse(out).models)).toEqual(['gemini-2.5-pro']);
  });

  it('prints text with sources and guesses', async () => {
    const text = await run(['--model', 'gemini-flash-latest', '--tier', 'free']);
    expect(text).toMatch(/^gemini-3\.8-flash/m);
    expect(text).toMatch(/free\s+rpm 5 \[default, guess\]/);
    expect(text).toMatch(/gemini-flash-latest -> gemini-3\.8-flash \[catalog, guess\]/);
  });

  it('rejects bad input with every problem named', async () => {
    const broken = await file('broken.json', { models: { m: { limits: { free: { rpm: -1, source: 'x' } } } }, aliases: { a: { model: 'nowhere', source: 'estimate: y' } } });
    await expect(catalog.run(['--file', broken])).rejects.toThrow(/broken\.json[\s\S]*models\.m\.limits\.free\.rpm[\s\S]*models\.m\.limits\.free\.source/);
    const dangling = await file('dangling.json', { aliases: { a: { model: 'nowhere', source: 'estimate: y' } } });
    await expect(catalog.run(['--file', dangling])).rejects.toThrow(/aliases\.a: points at "nowhere"/);
    await expect(catalog.run(['--model', 'gemini-2.5-flsh'])).rejects.toThrow(/did you mean "gemini-2\.5-flash"/);
    await expect(catalog.run(['--tier', 'gold'])).rejects.toThrow(ValidationError);
    await expect(catalog.run(['--file', join(dir, 'missing.json')])).rejects.toThrow(/cannot read catalog file .*ENOENT/);
  });

  it('exits 2 on bad input', async () => {
    const r = await runCli(['catalog', '--tier', 'gold'], {});
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--tier must be one of free, tier1, tier2, tier3/);
  });
});
