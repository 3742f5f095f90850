import { GEMINI_ERRORS_DIR } from '../helpers/fixtures.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as bodies from '../../src/simulator/error-bodies.js';
import { answerForKind, type FaultContext } from '../../src/simulator/faults.js';
import { createRandom } from '../../src/simulator/prng.js';

const fixturesDir = (): string => GEMINI_ERRORS_DIR;
const FIXTURES = fixturesDir();
const fixture = (name: string): unknown => JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as unknown;

/** The shape of a JSON value: keys and types, not values; arrays of objects by @type. */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(shape);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, x]) => [k, k === '@type' ? x : shape(x)]),
    );
  }
  return typeof v;
}

const ctx = (tier: 'free' | 'tier1' = 'free'): FaultContext => ({
  model: 'gemini-2.5-flash',
  tier,
  limits: { rpm: 10, tpm: 250_000, rpd: 20 },
  now: Date.UTC(2025, 0, 1, 0, 0, 2),
  random: createRandom(1),
});

describe('error bodies equal the real fixtures', () => {
  it.each([
    ['400-api-key-invalid', '400-api-key-invalid.json'],
    ['403-key-leaked', '403-key-leaked.json'],
    ['429-no-details', '429-no-details.json'],
    ['500-internal', '500-internal.json'],
    ['503-overloaded', '503-overloaded.json'],
    ['503-high-demand', '503-high-demand.json'],
  ] as const)('%s is byte-for-byte the fixture', (kind, file) => {
    const answer = answerForKind(kind, ctx());
    expect(answer.body).toEqual(fixture(file));
    expect(answer.status).toBe(answer.body.error.code);
  });

  it('404 is the fixture with the model substituted', () => {
    expect(bodies.modelNotFound('gemini-pro').body).toEqual(fixture('404-model-not-found.json'));
    expect(bodies.modelNotFound('gemini-9').body.error.message).toMatch(/^models\/gemini-9 is not found/);
  });

  it('a TPM 429 has the structure of 429-tpm-per-minute.json and its values', () => {
    const answer = bodies.quotaExceeded({ dimension: 'tpm', tier: 'free', model: 'gemini-2.5-flash', limit: 250_000, retryAfterSec: 26 });
    expect(shape(answer.body)).toEqual(shape(fixture('429-tpm-per-minute.json')));
    expect(answer.body).toEqual(fixture('429-tpm-per-minute.json'));
  });

  it('an RPD 429 has the structure of 429-rpd-per-day.json', () => {
    const answer = answerForKind('429-per-day', ctx());
    expect(shape(answer.body)).toEqual(shape(fixture('429-rpd-per-day.json')));
    const failure = answer.body.error.details?.find((d) => d['@type'] === 'type.googleapis.com/google.rpc.QuotaFailure');
    expect(failure).toMatchObject({
      violations: [
        {
          quotaId: 'GenerateRequestsPerDayPerProjectPerModel-FreeTier',
          quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests',
          quotaDimensions: { location: 'global', model: 'gemini-2.5-flash' },
          quotaValue: '20',
        },
      ],
    });
    expect(answer.body.error.message).toContain('limit: 20, model: gemini-2.5-flash');
    expect(answer.body.error.details).toContainEqual({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '58s' });
  });

  it('an RPM 429 is per-minute with the request quota id and the limit as a string', () => {
    const answer = bodies.quotaExceeded({ dimension: 'rpm', tier: 'free', model: 'gemini-2.5-pro', limit: 2, retryAfterSec: 37 });
    expect(shape(answer.body)).toEqual(shape(fixture('429-tpm-per-minute.json')));
    expect(answer.body.error.details?.[0]).toEqual({
      '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
      violations: [
        {
          quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests',
          quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier',
          quotaDimensions: { location: 'global', model: 'gemini-2.5-pro' },
          quotaValue: '2',
        },
      ],
    });
    expect(answer.body.error.details?.[2]).toEqual({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '37s' });
  });

  it('paid tiers drop the -FreeTier suffix', () => {
    const answer = answerForKind('429-per-minute', ctx('tier1'));
    const text = JSON.stringify(answer.body);
    expect(text).toContain('"quotaId":"GenerateRequestsPerMinutePerProjectPerModel"');
    expect(text).not.toContain('FreeTier');
    expect(text).not.toContain('free_tier');
  });

  it('missing key and bad request are non-key 403 / 400 bodies', () => {
    expect(bodies.missingKey()).toMatchObject({ status: 403, body: { error: { status: 'PERMISSION_DENIED', code: 403 } } });
    expect(bodies.missingKey().body.error.message).toContain("Method doesn't allow unregistered callers");
    const bad = bodies.badRequest();
    expect(bad).toMatchObject({ status: 400, body: { error: { status: 'INVALID_ARGUMENT' } } });
    expect(JSON.stringify(bad.body)).not.toContain('API_KEY_INVALID');
  });
});
