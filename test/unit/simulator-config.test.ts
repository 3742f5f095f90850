import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { demoSimulatorConfig, loadSimulatorConfigFile, parseSimulatorConfig } from '../../src/simulator/index.js';

const minimal = {
  projects: [{ id: 'proj-a', keys: [{ secret: 'k-1' }] }],
  models: { 'gemini-2.5-pro': { rpm: 5, tpm: 250_000, rpd: 100 } },
};

function issuesOf(doc: unknown): readonly string[] {
  try {
    parseSimulatorConfig(doc);
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return (err as ValidationError).issues;
  }
  throw new Error('expected a ValidationError');
}

describe('parseSimulatorConfig', () => {
  it('fills documented defaults', () => {
    const cfg = parseSimulatorConfig(minimal);
    expect(cfg.dayLengthMs).toBeNull();
    expect(cfg.latencyMs).toEqual({ min: 0, max: 0 });
    expect(cfg.faults).toEqual({ rules: [] });
    expect(cfg.maxCallLog).toBe(100_000);
    expect(cfg.seed).toBe(1);
    expect(cfg.projects[0]?.tier).toBe('free');
    expect(cfg.invalidKeys).toEqual([]);
  });

  it('lists every problem at once, with paths', () => {
    const issues = issuesOf({
      projects: [{ id: '', tier: 'gold', keys: [{ secret: 'k' }] }],
      models: { m: { rpm: 0, tpm: 1, rpd: 1 } },
      latencyMs: { min: 5, max: 1 },
      faults: { rules: [{ p503: 2 }] },
      typo: true,
    });
    const joined = issues.join('\n');
    expect(joined).toContain('projects.0.id');
    expect(joined).toContain('projects.0.tier');
    expect(joined).toContain('models.m.rpm');
    expect(joined).toContain('latencyMs');
    expect(joined).toContain('faults.rules.0.p503');
    expect(joined).toMatch(/typo/);
    expect(issues.length).toBeGreaterThanOrEqual(6);
  });

  it('rejects duplicates and unknown models without echoing secrets', () => {
    const issues = issuesOf({
      projects: [
        { id: 'p', keys: [{ secret: 'sekrit-1', label: 'x' }], limits: { 'no-such-model': { rpm: 1 } } },
        { id: 'p', keys: [{ secret: 'sekrit-1', label: 'x' }] },
      ],
      models: { m: { rpm: 1, tpm: 1, rpd: 1 } },
    });
    const joined = issues.join('\n');
    expect(joined).toContain('duplicate project id "p"');
    expect(joined).toContain('duplicate label "x"');
    expect(joined).toContain('same secret used by another key');
    expect(joined).toContain('projects.0.limits.no-such-model: unknown model');
    expect(joined).not.toContain('sekrit-1');
  });

  it('accepts partial per-project overrides', () => {
    const cfg = parseSimulatorConfig({ ...minimal, projects: [{ id: 'p', limits: { 'gemini-2.5-pro': { rpm: 2 } } }] });
    expect(cfg.projects[0]?.limits['gemini-2.5-pro']).toEqual({ rpm: 2 });
  });
});

describe('loadSimulatorConfigFile', () => {
  it('reads a JSON file and reports bad JSON clearly', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sim-config-'));
    const good = join(dir, 'good.json');
    const bad = join(dir, 'bad.json');
    await writeFile(good, JSON.stringify(minimal));
    await writeFile(bad, '{ nope');
    expect((await loadSimulatorConfigFile(good)).projects[0]?.id).toBe('proj-a');
    await expect(loadSimulatorConfigFile(bad)).rejects.toThrow(/not valid JSON/);
    await expect(loadSimulatorConfigFile(join(dir, 'missing.json'))).rejects.toThrow(/cannot read/);
  });
});

describe('demoSimulatorConfig', () => {
  it('describes the demo fleet', () => {
    const cfg = demoSimulatorConfig();
    expect(cfg.projects.map((p) => [p.id, p.tier])).toEqual([
      ['proj-acme', 'free'],
      ['proj-globex', 'free'],
      ['proj-central-1', 'tier1'],
      ['proj-central-2', 'tier1'],
    ]);
    const keys = cfg.projects.flatMap((p) => p.keys);
    expect(keys.map((k) => k.label)).toEqual(['acme-1', 'acme-2', 'globex-1', 'central-1', 'central-2', 'central-3']);
    expect(keys.every((k) => k.secret === `demo-${k.label ?? ''}-secret`)).toBe(true);
    expect(Object.keys(cfg.models)).toEqual(['gemini-2.5-pro', 'gemini-2.5-flash', 'gemini-2.5-flash-lite']);
    expect(cfg.models['gemini-2.5-pro']?.rpm).toBe(2);
    expect(cfg.projects[2]?.limits['gemini-2.5-pro']?.rpm).toBe(8);
    expect(cfg.faults.rules).toEqual([{ model: 'gemini-2.5-pro', p503: 0.02 }]);
    expect(cfg.latencyMs).toEqual({ min: 20, max: 80 });
  });
});
