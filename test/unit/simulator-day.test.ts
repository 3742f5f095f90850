import { describe, expect, it } from 'vitest';
import { createDayClock, pacificDayId, shortRetrySeconds } from '../../src/simulator/day.js';

describe('Pacific day', () => {
  it('rolls over at midnight PST (08:00 UTC) in winter', () => {
    expect(pacificDayId(Date.UTC(2025, 0, 15, 7, 59, 59, 999))).toBe('2025-01-14');
    expect(pacificDayId(Date.UTC(2025, 0, 15, 8, 0, 0))).toBe('2025-01-15');
  });

  it('rolls over at midnight PDT (07:00 UTC) in summer', () => {
    expect(pacificDayId(Date.UTC(2025, 6, 4, 6, 59, 59, 999))).toBe('2025-07-03');
    expect(pacificDayId(Date.UTC(2025, 6, 4, 7, 0, 0))).toBe('2025-07-04');
  });

  it('handles the DST switch days (23 h and 25 h days)', () => {
    // 2025-03-09 starts at 08:00Z (PST) and 2025-03-10 at 07:00Z (PDT).
    expect(pacificDayId(Date.UTC(2025, 2, 9, 8, 0))).toBe('2025-03-09');
    expect(pacificDayId(Date.UTC(2025, 2, 10, 6, 59))).toBe('2025-03-09');
    expect(pacificDayId(Date.UTC(2025, 2, 10, 7, 0))).toBe('2025-03-10');
    // 2025-11-02 starts at 07:00Z (PDT) and 2025-11-03 at 08:00Z (PST).
    expect(pacificDayId(Date.UTC(2025, 10, 3, 7, 59))).toBe('2025-11-02');
    expect(pacificDayId(Date.UTC(2025, 10, 3, 8, 0))).toBe('2025-11-03');
  });

  it('the cached day clock agrees with the direct computation around midnight', () => {
    const clock = createDayClock(null);
    const midnight = Date.UTC(2025, 0, 15, 8, 0, 0);
    for (const t of [midnight - 3_600_001, midnight - 1, midnight, midnight + 1, midnight + 3_600_000]) {
      expect(clock(t)).toBe(pacificDayId(t));
    }
    expect(clock(midnight - 1)).not.toBe(clock(midnight));
  });
});

describe('fixed-length day', () => {
  it('is floor(now / dayLengthMs)', () => {
    const clock = createDayClock(10_000);
    expect(clock(9_999)).toBe('0');
    expect(clock(10_000)).toBe('1');
    expect(clock(25_000)).toBe('2');
  });
});

describe('shortRetrySeconds', () => {
  it('is under a minute, like the RetryInfo of a per-day 429', () => {
    expect(shortRetrySeconds(Date.UTC(2025, 0, 1, 0, 0, 1, 500))).toBe(59);
    expect(shortRetrySeconds(Date.UTC(2025, 0, 1, 0, 0, 59, 999))).toBe(1);
    expect(shortRetrySeconds(Date.UTC(2025, 0, 1, 0, 0, 0))).toBe(60);
  });
});
