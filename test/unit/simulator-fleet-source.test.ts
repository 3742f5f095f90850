/**
 * Deriving the stand-in's config from a fleet file (plus an overlay): each key
 * is written once, limits come from the catalog by tier unless overridden.
 */
import { describe, expect, it } from 'vitest';
import { resolveLimits } from '../../src/core/catalog.js';
import { ValidationError } from '../../src/errors.js';
import { parseOverlay, simulatorConfigFromFleet } from '../../src/simulator/index.js';

const fleet = {
  models: ['gemini-2.5-pro', 'gemini-2.5-flash'],
  projects: [
    { id: 'proj-central', tier: 'tier1', limits: { 'gemini-2.5-pro': { rpm: 7 } }, note: 'fields the stand-in does not read are fine' },
    { id: 'proj-acme' },
  ],
  tenants: [{ id: 'acme', keyMode: 'own-then-central', models: ['gemini-2.5-flash-lite'] }],
  keys: [
    { id: 'central-1', tenant: null, project: 'proj-central', secretEnv: 'CENTRAL_1_KEY', priority: 1 },
    { id: 'acme-1', tenant: 'acme', project: 'proj-acme', secret: 'acme-1-secret-value' },
    { id: 'loner', tenant: 'acme', secret: 'loner-secret-value' },
  ],
};
const env = (name: string): string | undefined => ({ CENTRAL_1_KEY: 'central-1-secret-value' })[name];
const catalog = (tier: 'free' | 'tier1', model: string): { rpm: number; tpm: number; rpd: number } => {
  const { rpm, tpm, rpd } = resolveLimits({ tier, model });
  return { rpm, tpm, rpd };
};

function issuesOf(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return (err as ValidationError).issues.join('\n');
  }
  throw new Error('expected a ValidationError');
}

describe('simulatorConfigFromFleet', () => {
  it('serves the fleet projects, a key:<id> project for a key without one, and every key once by its id', () => {
    const cfg = simulatorConfigFromFleet(fleet, {}, env);
    expect(cfg.projects.map((p) => [p.id, p.tier, p.keys])).toEqual([
      ['proj-central', 'tier1', [{ secret: 'central-1-secret-value', label: 'central-1' }]],
      ['proj-acme', 'free', [{ secret: 'acme-1-secret-value', label: 'acme-1' }]],
      ['key:loner', 'free', [{ secret: 'loner-secret-value', label: 'loner' }]],
    ]);
    expect(Object.keys(cfg.models)).toEqual(['gemini-2.5-pro', 'gemini-2.5-flash', 'gemini-2.5-flash-lite']);
  });

  it('limits: catalog for the tier < fleet project limits < overlay models < overlay project limits', () => {
    const overlay = parseOverlay({
      models: { 'gemini-2.5-flash': { tpm: 1234 } },
      projects: [{ id: 'proj-central', limits: { 'gemini-2.5-flash': { rpd: 9 }, 'gemini-2.5-pro': { rpd: 8 } } }],
    });
    const cfg = simulatorConfigFromFleet(fleet, overlay, env);
    const limits = (id: string): Record<string, unknown> => cfg.projects.find((p) => p.id === id)?.limits ?? {};
    expect(limits('proj-central')['gemini-2.5-pro']).toEqual({ ...catalog('tier1', 'gemini-2.5-pro'), rpm: 7, rpd: 8 });
    expect(limits('proj-central')['gemini-2.5-flash']).toEqual({ ...catalog('tier1', 'gemini-2.5-flash'), tpm: 1234, rpd: 9 });
    expect(limits('proj-acme')['gemini-2.5-flash']).toEqual({ ...catalog('free', 'gemini-2.5-flash'), tpm: 1234 });
    expect(limits('key:loner')['gemini-2.5-flash-lite']).toEqual(catalog('free', 'gemini-2.5-flash-lite'));
  });

  it('takes every other setting from the overlay, and may add projects and keys', () => {
    const overlay = parseOverlay({
      latencyMs: { min: 5, max: 9 },
      stream: { chunkIntervalMs: 30 },
      faults: { rules: [{ model: 'gemini-2.5-pro', p503: 0.1 }] },
      recordBodies: true,
      projects: [{ id: 'proj-extra', tier: 'tier2', keys: [{ secret: 'extra-secret', label: 'extra' }] }],
    });
    const cfg = simulatorConfigFromFleet(fleet, overlay, env);
    expect(cfg.latencyMs).toEqual({ min: 5, max: 9 });
    expect(cfg.stream).toEqual({ chunkChars: 12, firstChunkDelayMs: 0, chunkIntervalMs: 30 });
    expect(cfg.faults.rules).toEqual([{ model: 'gemini-2.5-pro', p503: 0.1 }]);
    expect(cfg.recordBodies).toBe(true);
    expect(cfg.projects.find((p) => p.id === 'proj-extra')).toMatchObject({ tier: 'tier2', keys: [{ label: 'extra' }] });
  });

  it('lists every problem without revealing a secret', () => {
    const bad = {
      models: [],
      keys: [
        { id: 'a', secretEnv: 'UNSET_VAR' },
        { id: 'b', secret: 'dup-secret-value' },
        { id: 'c', secret: 'dup-secret-value' },
        { id: 'd', secret: 'x-secret', secretEnv: 'ALSO' },
        { id: 'e' },
      ],
    };
    const issues = issuesOf(() => simulatorConfigFromFleet(bad, {}, env));
    expect(issues).toContain('keys.0 ("a"): environment variable UNSET_VAR is not set');
    expect(issues).toContain('keys.2 ("c"): same secret as key "b"');
    expect(issues).toContain('keys.3 ("d"): give exactly one of "secret" or "secretEnv"');
    expect(issues).toContain('keys.4 ("e"): give exactly one');
    expect(issues).toContain('models: the fleet names no model');
    expect(issues).not.toMatch(/dup-secret-value|x-secret/);
  });

  it('validates what it reads with zod, and the overlay strictly', () => {
    const issues = issuesOf(() => simulatorConfigFromFleet({ models: 'gemini-2.5-pro', projects: [{ id: 'p', tier: 'gold' }], keys: [{ secret: 's' }] }, {}, env));
    expect(issues).toContain('models');
    expect(issues).toContain('projects.0.tier');
    expect(issues).toContain('keys.0.id');
    const overlayIssues = issuesOf(() => parseOverlay({ latencyMs: { min: 3, max: 1 }, models: { m: { rpm: -1 } }, typo: 1 }));
    for (const path of ['latencyMs', 'models.m.rpm', 'typo']) expect(overlayIssues).toContain(path);
    expect(issuesOf(() => simulatorConfigFromFleet(fleet, parseOverlay({ projects: [{ id: 'proj-acme', limits: { 'gemini-1': { rpm: 1 } } }] }), env))).toContain('unknown model');
  });
});
