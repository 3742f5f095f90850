import { describe, expect, it } from 'vitest';
import { scopeCooldownMs } from '../../src/core/backoff.js';
import { ZERO_USAGE } from '../../src/core/outcome.js';
import { breakerReportOf, decideFailure, type FailureContext } from '../../src/core/failure-policy.js';
import type { FailureClass, FailureOutcome, QuotaViolation } from '../../src/core/outcome.js';

const ctx: FailureContext = {
  keyId: 'k1',
  projectId: 'p1',
  model: 'gemini-2.5-pro',
  scope: 'p1|gemini-2.5-pro',
  knownLimit: (d) => ({ rpm: 5, tpm: 250_000, rpd: 100 })[d],
  repeat: 0,
  random: () => 0.5,
};
const out = (failure: FailureClass, extra: Partial<FailureOutcome> = {}): FailureOutcome => ({
  kind: 'failure',
  failure,
  status: 429,
  message: failure,
  retryAfterMs: null,
  violation: null,
  ...extra,
});
const kinds = (d: ReturnType<typeof decideFailure>): string[] => d.blame.map((b) => b.kind);

describe('decideFailure', () => {
  it('per-minute 429 cools the (project, model) for RetryInfo and retries elsewhere', () => {
    const d = decideFailure(out('rate_minute', { retryAfterMs: 37_000 }), ctx);
    expect(d.kind).toBe('retry');
    expect(d.blame).toEqual([{ kind: 'cool-scope', scope: ctx.scope, projectId: 'p1', retryAfterMs: 37_000, failure: 'rate_minute' }]);
    // the blame step turns it into the cooldown: RetryInfo as given
    expect(scopeCooldownMs({ failure: 'rate_minute', retryAfterMs: 37_000 }, 0)).toBe(37_000);
  });

  it('per-day 429 excludes the scope for the day; a different quotaValue is learned', () => {
    const violation: QuotaViolation = { quotaId: 'GenerateRequestsPerDayPerProjectPerModel-FreeTier', quotaMetric: null, quotaValue: 50, dimension: 'rpd' };
    const d = decideFailure(out('rate_day', { violation }), ctx);
    expect(kinds(d)).toEqual(['learn-limit', 'exclude-day']);
    expect(d.blame[0]).toMatchObject({ dimension: 'rpd', value: 50 });
  });

  it('does not "learn" the limit it already knew', () => {
    const violation: QuotaViolation = { quotaId: 'x-PerMinute', quotaMetric: null, quotaValue: 5, dimension: 'rpm' };
    expect(kinds(decideFailure(out('rate_minute', { violation }), ctx))).toEqual(['cool-scope']);
  });

  it('503 and 500 count against the scope breaker (reported when settling); network and timeouts blame nothing', () => {
    expect(breakerReportOf(out('overloaded', { status: 503 }))).toBe('failure');
    expect(breakerReportOf(out('internal', { status: 500 }))).toBe('failure');
    expect(breakerReportOf(out('network', { status: null }))).toBe('none');
    expect(breakerReportOf(out('rate_minute', { status: 429 }))).toBe('none');
    expect(breakerReportOf({ kind: 'success', text: '', parts: [], usage: ZERO_USAGE, finishReason: 'STOP', safetyRatings: [], modelVersion: null, responseId: null })).toBe('success');
    expect(kinds(decideFailure(out('overloaded', { status: 503 }), ctx))).toEqual([]);
    expect(kinds(decideFailure(out('network', { status: null }), ctx))).toEqual([]);
    expect(kinds(decideFailure(out('timeout', { status: 504 }), ctx))).toEqual([]);
  });

  it('invalid or forbidden key disables the key; 404 marks the model unsupported for the project', () => {
    expect(kinds(decideFailure(out('key_invalid', { status: 400 }), ctx))).toEqual(['disable-key']);
    expect(kinds(decideFailure(out('key_forbidden', { status: 403 }), ctx))).toEqual(['disable-key']);
    expect(decideFailure(out('model_not_found', { status: 404 }), ctx).blame).toEqual([{ kind: 'model-unsupported', projectId: 'p1', model: ctx.model }]);
  });

  it('bad request and safety block end the job with their reason and blame nothing', () => {
    expect(decideFailure(out('bad_request', { status: 400 }), ctx)).toMatchObject({ kind: 'fail', reason: 'invalid_request', blame: [] });
    expect(decideFailure(out('blocked', { status: 200 }), ctx)).toMatchObject({ kind: 'fail', reason: 'blocked', blame: [] });
  });

  it('backs off the failed pair by error type: 503 ~2 s then ~5 s, capped at 15 s', () => {
    const first = decideFailure(out('overloaded'), ctx);
    const second = decideFailure(out('overloaded'), { ...ctx, repeat: 1 });
    if (first.kind !== 'retry' || second.kind !== 'retry') throw new Error('expected retries');
    expect(first.pairBackoffMs).toBeGreaterThanOrEqual(1_600);
    expect(first.pairBackoffMs).toBeLessThanOrEqual(2_400);
    expect(second.pairBackoffMs).toBeGreaterThanOrEqual(4_000);
    const capped = decideFailure(out('rate_minute', { retryAfterMs: 120_000 }), ctx);
    if (capped.kind !== 'retry') throw new Error('expected retry');
    expect(capped.pairBackoffMs).toBeLessThanOrEqual(15_000);
  });

  it('429 without details escalates its cooldown when it repeats, capped at a minute', () => {
    const unknown = { failure: 'rate_unknown' as const, retryAfterMs: null };
    expect(scopeCooldownMs(unknown, 0)).toBe(5_000);
    expect(scopeCooldownMs(unknown, 1)).toBe(10_000);
    expect(scopeCooldownMs(unknown, 2)).toBe(20_000);
    expect(scopeCooldownMs(unknown, 9)).toBe(60_000);
  });
});
