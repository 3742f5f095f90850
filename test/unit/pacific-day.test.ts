import { describe, expect, it } from 'vitest';
import { createPacificDay, fixedLengthDay, pacificDay } from '../../src/core/pacific-day.js';

const at = (iso: string): number => Date.parse(iso);
const HOUR = 3_600_000;

describe('pacificDay', () => {
  it('a normal summer day is 24 h, from 07:00Z to 07:00Z', () => {
    const clock = createPacificDay();
    expect(clock.dayId(at('2026-06-15T12:00:00Z'))).toBe('2026-06-15');
    expect(clock.nextDayStartMs(at('2026-06-15T12:00:00Z'))).toBe(at('2026-06-16T07:00:00Z'));
    expect(clock.nextDayStartMs(at('2026-06-15T07:00:00Z')) - at('2026-06-15T07:00:00Z')).toBe(24 * HOUR);
  });

  it('a normal winter day starts at 08:00Z', () => {
    const clock = createPacificDay();
    expect(clock.dayId(at('2026-01-15T08:00:00Z'))).toBe('2026-01-15');
    expect(clock.nextDayStartMs(at('2026-01-15T08:00:00Z'))).toBe(at('2026-01-16T08:00:00Z'));
  });

  it('flips exactly at local midnight', () => {
    const clock = createPacificDay();
    const midnight = at('2026-06-16T07:00:00Z');
    expect(clock.dayId(midnight - 1)).toBe('2026-06-15');
    expect(clock.nextDayStartMs(midnight - 1)).toBe(midnight);
    expect(clock.dayId(midnight)).toBe('2026-06-16');
    expect(clock.nextDayStartMs(midnight)).toBe(at('2026-06-17T07:00:00Z'));
  });

  it('the spring-forward day (2026-03-08) is 23 hours long', () => {
    const clock = createPacificDay();
    const start = at('2026-03-08T08:00:00Z'); // 00:00 PST
    const end = at('2026-03-09T07:00:00Z'); // 00:00 PDT
    expect(clock.dayId(start - 1)).toBe('2026-03-07');
    expect(clock.nextDayStartMs(start - 1)).toBe(start);
    expect(clock.dayId(start)).toBe('2026-03-08');
    expect(clock.nextDayStartMs(start)).toBe(end);
    expect(clock.nextDayStartMs(at('2026-03-08T12:00:00Z'))).toBe(end); // after the 02:00 jump
    expect(end - start).toBe(23 * HOUR);
    expect(clock.dayId(end - 1)).toBe('2026-03-08');
    expect(clock.dayId(end)).toBe('2026-03-09');
    expect(clock.nextDayStartMs(end)).toBe(at('2026-03-10T07:00:00Z'));
  });

  it('the fall-back day (2026-11-01) is 25 hours long', () => {
    const clock = createPacificDay();
    const start = at('2026-11-01T07:00:00Z'); // 00:00 PDT
    const end = at('2026-11-02T08:00:00Z'); // 00:00 PST
    expect(clock.dayId(start - 1)).toBe('2026-10-31');
    expect(clock.nextDayStartMs(start - 1)).toBe(start);
    expect(clock.dayId(start)).toBe('2026-11-01');
    expect(clock.nextDayStartMs(start)).toBe(end);
    expect(clock.nextDayStartMs(at('2026-11-01T09:30:00Z'))).toBe(end); // the repeated 01:xx hour
    expect(end - start).toBe(25 * HOUR);
    expect(clock.dayId(end - 1)).toBe('2026-11-01');
    expect(clock.dayId(end)).toBe('2026-11-02');
    expect(clock.nextDayStartMs(end)).toBe(at('2026-11-03T08:00:00Z'));
  });

  it('crosses month and year ends', () => {
    const clock = createPacificDay();
    expect(clock.dayId(at('2027-01-01T07:59:59.999Z'))).toBe('2026-12-31');
    expect(clock.nextDayStartMs(at('2026-12-31T20:00:00Z'))).toBe(at('2027-01-01T08:00:00Z'));
    expect(clock.nextDayStartMs(at('2026-03-31T20:00:00Z'))).toBe(at('2026-04-01T07:00:00Z'));
  });

  it('the shared instance answers the same as a fresh one, in any call order (hour cache)', () => {
    const fresh = createPacificDay();
    const instants = [at('2026-11-02T08:00:00Z'), at('2026-11-02T07:59:59Z'), at('2026-03-08T07:30:00Z'), at('2026-03-08T08:30:00Z')];
    for (const t of instants) {
      expect(pacificDay.dayId(t)).toBe(fresh.dayId(t));
      expect(pacificDay.nextDayStartMs(t)).toBe(createPacificDay().nextDayStartMs(t));
    }
  });
});

describe('fixedLengthDay', () => {
  it('numbers days from the epoch and starts the next one on the boundary', () => {
    const clock = fixedLengthDay(10_000);
    expect(clock.dayId(0)).toBe('d0');
    expect(clock.dayId(9_999)).toBe('d0');
    expect(clock.dayId(10_000)).toBe('d1');
    expect(clock.nextDayStartMs(9_999)).toBe(10_000);
    expect(clock.nextDayStartMs(10_000)).toBe(20_000);
  });

  it('rejects a non-positive length', () => {
    expect(() => fixedLengthDay(0)).toThrow(RangeError);
  });
});
