import { describe, expect, it } from 'vitest';
import { CLOSED, DEFAULT_BREAKER, breakerPhase, breakerStep, canPass, type BreakerEvent, type BreakerState } from '../../src/core/breaker.js';

const OPEN_MS = DEFAULT_BREAKER.openMs;
const run = (events: Array<[BreakerEvent, number]>, from: BreakerState = CLOSED): BreakerState =>
  events.reduce((s, [e, t]) => breakerStep(s, e, t), from);

describe('breaker', () => {
  it('stays closed below the threshold; a success resets the count', () => {
    const s = run([
      ['failure', 1],
      ['failure', 2],
      ['success', 3],
      ['failure', 4],
      ['failure', 5],
    ]);
    expect(s).toEqual({ kind: 'closed', failures: 2 });
    expect(canPass(s, 5)).toBe(true);
  });

  it('opens after 3 consecutive failures for 5 minutes', () => {
    const s = run([
      ['failure', 0],
      ['failure', 10],
      ['failure', 20],
    ]);
    expect(s).toEqual({ kind: 'open', untilMs: 20 + OPEN_MS });
    expect(canPass(s, 21)).toBe(false);
    expect(canPass(s, 20 + OPEN_MS - 1)).toBe(false);
    expect(breakerPhase(s, 21)).toBe('open');
    expect(canPass(s, 20 + OPEN_MS)).toBe(true);
    expect(breakerPhase(s, 20 + OPEN_MS)).toBe('half_open');
  });

  it('late answers while open change nothing', () => {
    const opened = run([
      ['failure', 0],
      ['failure', 0],
      ['failure', 0],
    ]);
    expect(breakerStep(opened, 'success', 100)).toBe(opened);
    expect(breakerStep(opened, 'failure', 100)).toBe(opened);
    expect(breakerStep(opened, 'pass', 100)).toBe(opened);
  });

  it('half open lets exactly one probe through', () => {
    const opened: BreakerState = { kind: 'open', untilMs: 1_000 };
    const probing = breakerStep(opened, 'pass', 1_000);
    expect(probing).toEqual({ kind: 'half_open', probeAtMs: 1_000 });
    expect(canPass(probing, 1_001)).toBe(false);
    expect(breakerStep(probing, 'pass', 1_001)).toBe(probing);
  });

  it('probe success closes', () => {
    const s = run([['pass', 1_000], ['success', 1_500]], { kind: 'open', untilMs: 1_000 });
    expect(s).toEqual(CLOSED);
    expect(canPass(s, 1_501)).toBe(true);
  });

  it('probe failure re-opens for another period', () => {
    const s = run([['pass', 1_000], ['failure', 1_500]], { kind: 'open', untilMs: 1_000 });
    expect(s).toEqual({ kind: 'open', untilMs: 1_500 + OPEN_MS });
    expect(canPass(s, 1_501)).toBe(false);
  });

  it('a probe that never reports frees the slot after probeTimeoutMs', () => {
    const probing: BreakerState = { kind: 'half_open', probeAtMs: 0 };
    expect(canPass(probing, DEFAULT_BREAKER.probeTimeoutMs - 1)).toBe(false);
    expect(canPass(probing, DEFAULT_BREAKER.probeTimeoutMs)).toBe(true);
    expect(breakerStep(probing, 'pass', DEFAULT_BREAKER.probeTimeoutMs)).toEqual({ kind: 'half_open', probeAtMs: DEFAULT_BREAKER.probeTimeoutMs });
  });

  it('honours a custom config', () => {
    const config = { failureThreshold: 1, openMs: 10, probeTimeoutMs: 5 };
    const s = breakerStep(CLOSED, 'failure', 0, config);
    expect(s).toEqual({ kind: 'open', untilMs: 10 });
    expect(canPass(breakerStep(s, 'pass', 10, config), 14, config)).toBe(false);
    expect(canPass(breakerStep(s, 'pass', 10, config), 15, config)).toBe(true);
  });
});
