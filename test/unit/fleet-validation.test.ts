import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { closest, editDistance, FLEET_LIMITS } from '../../src/core/fleet-checks.js';
import { checkFleet, checkFleetText } from '../../src/core/fleet-file.js';
import { findJsonSyntaxError } from '../../src/core/fleet-json.js';
import { tokenWeakness } from '../../src/core/fleet-token.js';
import { ValidationError } from '../../src/errors.js';
import { EXAMPLE_FLEET, type FleetDoc as BaseDoc } from '../helpers/postgres.js';

/** The helpers' fleet document, with the tenants' `tokenEnv`. */
type FleetDoc = Pick<BaseDoc, 'models' | 'projects' | 'keys'> & { tenants: Array<BaseDoc['tenants'][number] & { tokenEnv?: string }> };

const clone = (): FleetDoc => structuredClone(EXAMPLE_FLEET) as FleetDoc;
const STRONG = 'Qm7vR2xK9pL4sW8nZt3hY6bN1cF5Jx4kW9qE2Pd8';

function rejection(run: () => unknown): ValidationError {
  try {
    run();
  } catch (err) {
    if (err instanceof ValidationError) return err;
    throw err;
  }
  throw new Error('expected a ValidationError');
}

describe('one pass, every problem', () => {
  it('reports schema problems, broken references, duplicates, reserved names and weak tokens together', () => {
    const text = JSON.stringify({
      ...clone(),
      projects: [
        { id: 'proj-a', tier: 'free', limits: { 'gemini-2.5-pro': { rpm: -1 } } }, // schema: negative limit
        { id: 'proj-c', tier: 'tier1', limits: { PROTO: { rpm: 1 } } }, // reserved name (an object literal cannot hold "__proto__")
      ],
      tenants: [
        { id: 'acme', keyMode: 'central-first' }, // schema: unknown key mode
        { id: 'solo', keyMode: 'central-only', token: 'short-token' }, // weak token
      ],
      keys: [
        { id: 'acme-1', tenant: 'acme', project: 'proj-x', secret: 'k-acme-1' }, // unknown project
        { id: 'acme-1', tenant: 'acme', project: 'proj-a', secret: 'k-acme-2' }, // duplicate id
      ],
    }).replace('"PROTO"', '"__proto__"');
    const err = rejection(() => checkFleetText(text));
    expect(err.issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^projects\.0\.limits\.gemini-2\.5-pro\.rpm: must not be negative/),
        expect.stringMatching(/^projects\.1\.limits\.__proto__: "__proto__" is not allowed/),
        expect.stringMatching(/^tenants\.0\.keyMode: /),
        expect.stringMatching(/^tenants\.1 \(solo\): the token is 11 characters long/),
        'keys.0: unknown project "proj-x"',
        'keys: duplicate id "acme-1"',
      ]),
    );
    expect(err.issues).toHaveLength(6);
    expect(err.message).toMatch(/^invalid fleet file \(6 problems\)/);
    expect(err.message).not.toContain('short-token');
  });

  it('rejects __proto__, constructor and prototype as names anywhere (they are not silently dropped)', () => {
    for (const name of ['__proto__', 'constructor', 'prototype']) {
      const doc: unknown = JSON.parse(`{"models":["gemini-2.5-pro"],"projects":[{"id":"p","limits":{"${name}":{"rpm":1}}}]}`);
      expect(rejection(() => checkFleet(doc)).issues).toEqual([`projects.0.limits.${name}: "${name}" is not allowed as a name (it is reserved by JavaScript)`]);
    }
    const top: unknown = JSON.parse('{"models":["m"],"__proto__":{"polluted":true}}');
    expect(rejection(() => checkFleet(top)).issues).toContain('__proto__: "__proto__" is not allowed as a name (it is reserved by JavaScript)');
  });

  it('caps the size of each section with one clear message, without checking further', () => {
    const doc = { models: ['m'], projects: Array.from({ length: FLEET_LIMITS.projects + 1 }, (_, i) => ({ id: `p-${i}`, tier: 'nope' })) };
    const err = rejection(() => checkFleet(doc));
    expect(err.issues).toEqual([`projects: ${FLEET_LIMITS.projects + 1} entries; a fleet file may hold at most ${FLEET_LIMITS.projects} (split the fleet into deployments with their own QUOTAFLOW_PREFIX)`, 'the file was not checked further']);
  });

  it('lists at most 100 problems and counts the rest', () => {
    const doc = { models: ['m'], keys: Array.from({ length: 150 }, (_, i) => ({ id: `k${i}`, project: 'missing', secret: `s-${i}` })) };
    const err = rejection(() => checkFleet(doc));
    expect(err.message).toMatch(/^invalid fleet file \(150 problems\)/);
    expect(err.issues).toHaveLength(101);
    expect(err.issues.at(-1)).toBe('… and 50 more problems');
  });

  it('collects a problem for each of 100,000 keys without running out of stack', () => {
    const doc = { models: ['m'], keys: Array.from({ length: FLEET_LIMITS.keys }, (_, i) => ({ id: `k${i}`, project: 'missing', secret: `s-${i}` })) };
    expect(rejection(() => checkFleet(doc)).message).toMatch(/^invalid fleet file \(100000 problems\)/);
  });
});

describe('unknown models', () => {
  it('warn (not fail) naming the closest known model, unless a project configures limits for them', () => {
    const doc = clone();
    doc.models = ['gemini-2.5-pro', 'gemini-2.5-flsh', 'my-tuned-model'];
    doc.tenants[0]!.models = ['gemini-2.5-flsh'];
    doc.projects[1]!.limits = { 'my-tuned-model': { rpm: 10 } };
    const { spec, warnings } = checkFleet(doc);
    expect(spec.models).toEqual(doc.models);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^model "gemini-2\.5-flsh" is neither in the built-in catalog nor in any project's "limits".*did you mean "gemini-2\.5-flash"\?$/);
  });

  it('do not warn for catalog models', () => {
    expect(checkFleet(clone()).warnings).toEqual([]);
  });

  it('closest uses edit distance', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(closest('gemini-2.5-prp', ['gemini-2.5-flash', 'gemini-2.5-pro', 'gemini-2.0-flash'])).toBe('gemini-2.5-pro');
    expect(closest('x', [])).toBeUndefined();
  });
});

describe('tenant tokens', () => {
  it('come from the file or from an environment variable (tokenEnv), never both', () => {
    const doc = clone();
    doc.tenants[0] = { id: 'acme', token: STRONG };
    doc.tenants[1] = { id: 'solo', tokenEnv: 'SOLO_TOKEN' };
    const { spec } = checkFleet(doc);
    expect(spec.tenants.map((t) => t.token)).toEqual([{ value: STRONG }, { env: 'SOLO_TOKEN' }]);
    const both = clone();
    both.tenants[0] = { id: 'acme', token: STRONG, tokenEnv: 'ACME_TOKEN' };
    expect(rejection(() => checkFleet(both)).issues).toEqual(['tenants.0 (acme): give "token" or "tokenEnv", not both']);
  });

  it('must be long, mixed and not repetitive; the reason never quotes the token', () => {
    expect(tokenWeakness(STRONG)).toBeNull();
    expect(tokenWeakness('0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef')).toBeNull();
    expect(tokenWeakness('tenant-token-0001')).toMatch(/17 characters long/);
    expect(tokenWeakness('abcdefghijklmnopqrstuvwxyzabcdefgh')).toMatch(/one kind of character/);
    expect(tokenWeakness(`${'a'.repeat(40)}1`)).toMatch(/too predictable/);
    for (const t of ['tenant-token-0001', `${'a'.repeat(40)}1`]) expect(tokenWeakness(t)).not.toContain(t);
  });

  it('rejects two tenants sharing a token', () => {
    const doc = clone();
    doc.tenants[0]!.token = STRONG;
    doc.tenants[1]!.token = STRONG;
    expect(rejection(() => checkFleet(doc)).issues).toEqual(['tenants.1 (solo): same token as tenant "acme"']);
  });
});

describe('JSON syntax errors', () => {
  it('name line and column, never a character of the file', () => {
    const secret = 'AIzaSyD-not-a-real-key-0123456789';
    const err = rejection(() => checkFleetText(`{\n  "models": ["m"],\n  "keys": [{"id": "k", "secret": ${secret}}]\n}`));
    expect(err.message).toBe('fleet file is not valid JSON: line 3, column 34: expected a value (object, array, string, number, true, false or null)');
    const unterminated = rejection(() => checkFleetText(`{"keys": [{"secret": "${secret}`));
    expect(unterminated.message).toMatch(/line 1, column 22: string never closed$/);
    expect(unterminated.message).not.toContain('AIza');
  });

  it('accept a byte-order mark', () => {
    expect(checkFleetText(`\uFEFF${JSON.stringify(clone())}`).spec.keys).toHaveLength(2);
  });

  it('agree with JSON.parse on what is valid, for any JSON text and any one-character corruption of it', () => {
    const valid = (s: string): boolean => {
      try {
        JSON.parse(s);
        return true;
      } catch {
        return false;
      }
    };
    fc.assert(
      fc.property(fc.json(), fc.nat(), fc.constantFrom('', '{', '}', '[', ']', ',', ':', '"', '\\', 'x', ' ', '\n', '0', '-', 'e', '.'), (text, at, ch) => {
        const i = at % (text.length + 1);
        for (const s of [text, text.slice(0, i) + ch + text.slice(i), text.slice(0, i) + text.slice(i + 1)]) {
          expect(findJsonSyntaxError(s) === null, s).toBe(valid(s));
        }
      }),
      { numRuns: 2000 },
    );
  });
});
