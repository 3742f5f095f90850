import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { QuotaWindow, WINDOW_MS, retrySeconds } from '../../src/simulator/quota-window.js';

const limits = { rpm: 3, tpm: 100, rpd: 1000 };
const T0 = 1_700_000_000_000;

describe('QuotaWindow RPM (sliding 60 s)', () => {
  it('admits up to rpm, then tells when the oldest call leaves the window', () => {
    const w = new QuotaWindow();
    w.admit(1, T0, 'd');
    w.admit(1, T0 + 10_000, 'd');
    w.admit(1, T0 + 20_000, 'd');
    const v = w.check(limits, 1, T0 + 30_000, 'd');
    expect(v).toEqual({ ok: false, dimension: 'rpm', limit: 3, retryAfterMs: 30_000 });
    expect(retrySeconds(30_000)).toBe(30);
  });

  it('is sliding, not fixed: frees exactly 60 s after each call', () => {
    const w = new QuotaWindow();
    for (const dt of [0, 10_000, 20_000]) w.admit(1, T0 + dt, 'd');
    expect(w.check(limits, 1, T0 + WINDOW_MS - 1, 'd').ok).toBe(false);
    expect(w.check(limits, 1, T0 + WINDOW_MS, 'd').ok).toBe(true);
    w.admit(1, T0 + WINDOW_MS, 'd');
    // Still three calls inside (T0+10s, T0+20s, T0+60s): the next one waits for T0+10s to expire.
    const v = w.check(limits, 1, T0 + WINDOW_MS + 1, 'd');
    expect(v.ok === false && v.retryAfterMs).toBe(10_000 - 1);
    expect(w.requestsInWindow(T0 + WINDOW_MS + 1)).toBe(3);
  });
});

describe('QuotaWindow TPM (input tokens, sliding 60 s)', () => {
  it('rejects when tokens would exceed tpm and computes when enough expire', () => {
    const w = new QuotaWindow();
    const roomy = { rpm: 100, tpm: 100, rpd: 1000 };
    w.admit(40, T0, 'd');
    w.admit(40, T0 + 5_000, 'd');
    expect(w.check(roomy, 20, T0 + 6_000, 'd').ok).toBe(true);
    const v = w.check(roomy, 30, T0 + 6_000, 'd');
    // 80 + 30 > 100; after the first call (40) expires at T0+60s: 40 + 30 fits.
    expect(v).toEqual({ ok: false, dimension: 'tpm', limit: 100, retryAfterMs: 54_000 });
    expect(w.tokensInWindow(T0 + 60_000)).toBe(40);
    expect(w.check(roomy, 30, T0 + 60_000, 'd').ok).toBe(true);
  });

  it('a prompt bigger than the whole tpm waits a full window', () => {
    const w = new QuotaWindow();
    const v = w.check({ rpm: 100, tpm: 100, rpd: 1000 }, 101, T0, 'd');
    expect(v).toEqual({ ok: false, dimension: 'tpm', limit: 100, retryAfterMs: WINDOW_MS });
  });
});

describe('QuotaWindow RPD', () => {
  it('counts per day id and starts over when the day changes', () => {
    const w = new QuotaWindow();
    const daily = { rpm: 100, tpm: 1_000_000, rpd: 2 };
    w.admit(1, T0, 'day-1');
    w.admit(1, T0 + 1, 'day-1');
    const v = w.check(daily, 1, T0 + 2, 'day-1');
    expect(v.ok === false && v.dimension).toBe('rpd');
    expect(w.requestsToday('day-1')).toBe(2);
    expect(w.check(daily, 1, T0 + 3, 'day-2').ok).toBe(true);
    w.admit(1, T0 + 3, 'day-2');
    expect(w.requestsToday('day-2')).toBe(1);
  });

  it('stays correct through many calls (compaction keeps the window exact)', () => {
    const w = new QuotaWindow();
    const big = { rpm: 1_000, tpm: 1_000_000_000, rpd: 1_000_000 };
    for (let i = 0; i < 10_000; i++) {
      const now = T0 + i * 100; // 600 calls per 60 s
      expect(w.check(big, 2, now, 'd').ok).toBe(true);
      w.admit(2, now, 'd');
    }
    const end = T0 + 9_999 * 100;
    expect(w.requestsInWindow(end)).toBe(600);
    expect(w.tokensInWindow(end)).toBe(1_200);
  });
});

describe('QuotaWindow TPM retry time (binary search over running totals)', () => {
  /** The obvious answer: walk the entries oldest first until enough tokens have expired. */
  function bruteForce(entries: Array<[number, number]>, tpm: number, input: number, now: number, windowMs: number): number {
    const live = entries.filter(([t]) => t > now - windowMs);
    let sum = live.reduce((s, [, n]) => s + n, 0);
    for (const [t, n] of live) {
      sum -= n;
      if (sum + input <= tpm) return t + windowMs - now;
    }
    return windowMs;
  }

  it('equals the brute-force answer on random histories, through compactions and short windows', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 900 }), fc.integer({ min: 0, max: 50 })), { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 1, max: 80 }),
        fc.constantFrom(1_000, 5_000, WINDOW_MS),
        (steps, input, windowMs) => {
          const w = new QuotaWindow(windowMs);
          const limits = { rpm: 1_000_000, tpm: 400, rpd: 1_000_000 };
          const admitted: Array<[number, number]> = [];
          let now = T0;
          for (const [dt, tokens] of steps) {
            now += dt;
            const v = w.check(limits, input, now, 'd');
            if (v.ok) {
              w.admit(tokens, now, 'd');
              admitted.push([now, tokens]);
            } else if (v.dimension === 'tpm') {
              expect(v.retryAfterMs).toBe(bruteForce(admitted, limits.tpm, input, now, windowMs));
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
