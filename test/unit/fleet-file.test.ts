import { describe, expect, it } from 'vitest';
import { parseFleet, parseFleetText } from '../../src/core/fleet-file.js';
import { ValidationError } from '../../src/errors.js';
import { EXAMPLE_FLEET, type FleetDoc } from '../helpers/postgres.js';

const clone = (): FleetDoc => structuredClone(EXAMPLE_FLEET) as FleetDoc;

function problems(doc: unknown): string {
  try {
    parseFleet(doc);
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return (err as ValidationError).message;
  }
  throw new Error('expected the fleet to be rejected');
}

describe('parseFleet', () => {
  it('accepts the example and applies defaults', () => {
    const spec = parseFleet(EXAMPLE_FLEET);
    expect(spec.models).toEqual(['gemini-2.5-pro', 'gemini-2.5-flash']);
    expect(spec.projects[1]).toEqual({ id: 'proj-c', tier: 'tier1', limits: {} });
    expect(spec.tenants[1]).toEqual({ id: 'solo', keyMode: 'central-only', models: null, token: null, settings: { weight: 1, limits: {}, budget: null, pinModel: false } });
    expect(spec.keys[0]).toMatchObject({ id: 'acme-1', secret: { value: 'k-acme-1' }, enabled: true });
    expect(spec.keys[1]).toMatchObject({ id: 'central-1', tenant: null, project: 'proj-c', secret: { env: 'CENTRAL_KEY_1' } });
  });

  it('defaults tier, keyMode, priority, tenant, and gives a project-less key its own project', () => {
    const spec = parseFleet({ models: ['m1'], projects: [{ id: 'p' }], tenants: [{ id: 't' }], keys: [{ id: 'k', secret: 's' }] });
    expect(spec.projects[0]?.tier).toBe('free');
    expect(spec.tenants[0]?.keyMode).toBe('own-then-central');
    expect(spec.keys[0]).toEqual({ id: 'k', tenant: null, project: 'key:k', secret: { value: 's' }, priority: 1, enabled: true });
  });

  it('rejects duplicate ids, naming kind and id', () => {
    const doc = clone();
    doc.keys.push({ ...doc.keys[0]!, secret: 'other' });
    expect(problems(doc)).toMatch(/keys: duplicate id "acme-1"/);
    const p = clone();
    p.projects.push({ id: 'proj-c', tier: 'free' });
    expect(problems(p)).toMatch(/projects: duplicate id "proj-c"/);
  });

  it('rejects an unknown project and an unknown tenant, naming the key path', () => {
    const doc = clone();
    doc.keys[0]!.project = 'nope';
    doc.keys[1]!.tenant = 'ghost';
    const msg = problems(doc);
    expect(msg).toMatch(/keys\.0: unknown project "nope"/);
    expect(msg).toMatch(/keys\.1: unknown tenant "ghost"/);
  });

  it('rejects negative limits at their path', () => {
    const doc = clone();
    doc.projects[0]!.limits = { 'gemini-2.5-pro': { rpm: -1, tpm: 250000, rpd: 100 } };
    expect(problems(doc)).toMatch(/projects\.0\.limits\.gemini-2\.5-pro\.rpm: must not be negative/);
  });

  it('rejects the same secret on two keys (a key in two tenants)', () => {
    const doc = clone();
    doc.tenants.push({ id: 'other', keyMode: 'own-only' });
    doc.keys.push({ id: 'other-1', tenant: 'other', project: 'proj-a', secret: 'k-acme-1', priority: 1 });
    expect(problems(doc)).toMatch(/keys\.2: same secret as key "acme-1"/);
  });

  it('rejects a bad keyMode at its path', () => {
    const doc = clone();
    doc.tenants[1]!.keyMode = 'central-first';
    expect(problems(doc)).toMatch(/tenants\.1\.keyMode:/);
  });

  it('rejects models not in "models" (tenant chain and project limits)', () => {
    const doc = clone();
    doc.tenants[0]!.models = ['gemini-2.5-pro', 'gemini-9'];
    doc.projects[1]!.limits = { 'gemini-x': { rpm: 1 } };
    const msg = problems(doc);
    expect(msg).toMatch(/tenants\.0\.models: model "gemini-9" is not in "models"/);
    expect(msg).toMatch(/projects\.1\.limits: model "gemini-x" is not in "models"/);
  });

  it('rejects both secret and secretEnv, and neither', () => {
    const doc = clone();
    doc.keys[0]!.secretEnv = 'ALSO';
    delete doc.keys[1]!.secretEnv;
    const msg = problems(doc);
    expect(msg).toMatch(/keys\.0: give exactly one of "secret" or "secretEnv"/);
    expect(msg).toMatch(/keys\.1: give exactly one of "secret" or "secretEnv"/);
  });

  it('rejects unknown fields and a missing model list', () => {
    expect(problems({ ...clone(), extra: 1 })).toMatch(/extra/);
    expect(problems({ keys: [] })).toMatch(/models:/);
  });

  it('rejects text that is not JSON, and reads text that is', () => {
    expect(() => parseFleetText('{ "models": [')).toThrow(/fleet file is not valid JSON/);
    expect(parseFleetText(JSON.stringify(EXAMPLE_FLEET)).keys).toHaveLength(2);
  });

  it('never puts a secret value in an error message', () => {
    const doc = clone();
    doc.keys[0]!.project = 'nope';
    expect(problems(doc)).not.toContain('k-acme-1');
  });
});
