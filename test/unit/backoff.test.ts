import { describe, expect, it } from 'vitest';
import { DEFAULT_BACKOFF, backoffMs, scopeCooldownMs } from '../../src/core/backoff.js';
import { FAILURE_CLASSES, type FailureClass } from '../../src/core/outcome.js';

const mid = (): number => 0.5; // no jitter
const low = (): number => 0; // -20 %
const high = (): number => 0.999_999; // ~ +20 %

describe('backoffMs', () => {
  it('follows the default schedule without jitter', () => {
    const cases: Array<[FailureClass, number[]]> = [
      ['overloaded', [2_000, 5_000, 5_000]],
      ['internal', [2_000, 5_000]],
      ['rate_minute', [5_000, 10_000, 10_000]],
      ['rate_unknown', [5_000, 10_000]],
      ['network', [1_000, 2_000, 4_000, 4_000]],
      ['timeout', [1_000, 2_000, 4_000]],
    ];
    for (const [cls, waits] of cases) {
      waits.forEach((w, repeat) => expect(backoffMs(cls, repeat, mid), `${cls} #${repeat}`).toBe(w));
    }
  });

  it('jitters by at most ±20 %', () => {
    expect(backoffMs('overloaded', 0, low)).toBe(1_600);
    expect(backoffMs('overloaded', 0, high)).toBe(2_400);
    for (let i = 0; i < 50; i++) {
      const r = i / 50;
      const v = backoffMs('rate_minute', 1, () => r);
      expect(v).toBeGreaterThanOrEqual(8_000);
      expect(v).toBeLessThanOrEqual(12_000);
    }
  });

  it('bad requests and blocks are not retryable', () => {
    expect(backoffMs('bad_request', 0, mid)).toBeNull();
    expect(backoffMs('blocked', 3, mid)).toBeNull();
  });

  it('every other class is retryable', () => {
    for (const cls of FAILURE_CLASSES.filter((c) => c !== 'bad_request' && c !== 'blocked')) {
      expect(backoffMs(cls, 0, mid), cls).not.toBeNull();
    }
  });

  it('RetryInfo is a floor, and the cap still applies', () => {
    expect(backoffMs('rate_minute', 0, low, 9_000)).toBe(9_000);
    expect(backoffMs('rate_minute', 0, high, 1_000)).toBe(6_000);
    expect(backoffMs('rate_minute', 0, mid, 37_000)).toBe(15_000);
    expect(backoffMs('rate_minute', 5, high, null)).toBe(12_000);
  });

  it('caps at 15 s whatever the schedule says', () => {
    const config = { ...DEFAULT_BACKOFF, schedule: { ...DEFAULT_BACKOFF.schedule, overloaded: [60_000] } };
    expect(backoffMs('overloaded', 0, high, null, config)).toBe(15_000);
  });

  it('is configurable', () => {
    const config = { ...DEFAULT_BACKOFF, jitter: 0, schedule: { ...DEFAULT_BACKOFF.schedule, network: [100, 200] } };
    expect(backoffMs('network', 0, high, null, config)).toBe(100);
    expect(backoffMs('network', 9, high, null, config)).toBe(200);
  });
});

describe('scopeCooldownMs', () => {
  it('per-minute 429 cools for RetryInfo, or 60 s without it', () => {
    expect(scopeCooldownMs({ failure: 'rate_minute', retryAfterMs: 26_000 }, 0)).toBe(26_000);
    expect(scopeCooldownMs({ failure: 'rate_minute', retryAfterMs: null }, 0)).toBe(60_000);
    expect(scopeCooldownMs({ failure: 'rate_minute', retryAfterMs: 600_000 }, 0)).toBe(60_000);
  });

  it('unknown 429 starts at 5 s and doubles per repeat up to 60 s', () => {
    const waits = [0, 1, 2, 3, 4, 5, 30].map((r) => scopeCooldownMs({ failure: 'rate_unknown', retryAfterMs: null }, r));
    expect(waits).toEqual([5_000, 10_000, 20_000, 40_000, 60_000, 60_000, 60_000]);
    expect(scopeCooldownMs({ failure: 'rate_unknown', retryAfterMs: 30_000 }, 0)).toBe(30_000);
  });

  it('other classes do not cool the scope', () => {
    expect(scopeCooldownMs({ failure: 'overloaded', retryAfterMs: 10_000 }, 0)).toBe(0);
    expect(scopeCooldownMs({ failure: 'rate_day', retryAfterMs: 58_000 }, 0)).toBe(0);
  });
});
