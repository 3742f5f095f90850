import { describe, expect, it } from 'vitest';
import {
  DEFAULT_DISCOVERY_PARAMS,
  admittedLimit,
  discoveryStep,
  initialDiscovery,
  type DiscoveryParams,
  type DiscoveryState,
} from '../../src/core/discovery.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

interface Run {
  state: DiscoveryState;
  now: number;
  quota429s: number;
  /** admitted limit sampled at the end of every simulated minute */
  limits: number[];
  /** send times of the calls in the sliding window: as we admitted them, and as upstream counted them */
  ours: number[];
  upstream: number[];
}

/**
 * Plays calls second by second at the admitted rate against an upstream with a
 * hidden per-minute limit (sliding window), feeding every outcome back into
 * discovery. `hidden(now)` may change mid-run (a tier upgrade).
 */
function simulate(opts: {
  hidden: (now: number) => number;
  withQuotaValue: boolean;
  minutes: number;
  demandPerSecond?: number;
  params?: DiscoveryParams;
  start?: Run;
}): Run {
  const params = opts.params ?? DEFAULT_DISCOVERY_PARAMS;
  const run: Run = opts.start ?? { state: initialDiscovery(5, 0), now: 0, quota429s: 0, limits: [], ours: [], upstream: [] };
  const { ours, upstream } = run;
  const end = run.now + opts.minutes * MIN;
  for (; run.now < end; run.now += 1000) {
    const now = run.now;
    while (ours.length && (ours[0] ?? 0) <= now - MIN) ours.shift();
    while (upstream.length && (upstream[0] ?? 0) <= now - MIN) upstream.shift();
    for (let sent = 0; sent < (opts.demandPerSecond ?? 20) && ours.length < admittedLimit(run.state, now, params); sent++) {
      ours.push(now);
      const hidden = opts.hidden(now);
      if (upstream.length >= hidden) {
        run.quota429s++;
        const quotaValue = opts.withQuotaValue ? hidden : null;
        run.state = discoveryStep(run.state, { kind: 'quota429', quotaValue, used: ours.length }, now, params);
      } else {
        upstream.push(now);
        run.state = discoveryStep(run.state, { kind: 'success', used: ours.length }, now, params);
      }
    }
    if ((now + 1000) % MIN === 0) run.limits.push(admittedLimit(run.state, now, params));
  }
  return run;
}

const within = (value: number, target: number, share: number): boolean => Math.abs(value - target) <= target * share;

describe('discovery ramp against a hidden limit of 600/min', () => {
  it('with quotaValue: one 429, then exactly the limit', () => {
    const run = simulate({ hidden: () => 600, withQuotaValue: true, minutes: 30 });
    expect(admittedLimit(run.state, run.now)).toBe(600);
    expect(run.state.phase).toBe('exact');
    expect(run.quota429s).toBe(1);
    console.log(`ramp 5 -> 600 with quotaValue: ${run.quota429s} quota 429s`);
  });

  it('without quotaValue: settles within 5% of the limit after a bounded number of 429s, then stays quiet', () => {
    const run = simulate({ hidden: () => 600, withQuotaValue: false, minutes: 40 });
    const last = admittedLimit(run.state, run.now);
    expect(within(last, 600, 0.05)).toBe(true);
    expect(last).toBeLessThanOrEqual(600);
    expect(run.quota429s).toBeGreaterThanOrEqual(1);
    expect(run.quota429s).toBeLessThanOrEqual(2);
    // settled: the last 15 minutes held one limit and were refused nothing
    const before = run.quota429s;
    const more = simulate({ hidden: () => 600, withQuotaValue: false, minutes: 15, start: run });
    expect(more.quota429s).toBe(before);
    expect(new Set(more.limits.slice(-15)).size).toBe(1);
    console.log(`ramp 5 -> 600 without quotaValue: ${run.quota429s} quota 429s, settled at ${last}`);
  });
});

describe('discovery after a tier upgrade (100 -> 400 mid-run)', () => {
  const params: DiscoveryParams = { ...DEFAULT_DISCOVERY_PARAMS, quietMs: HOUR };
  const hidden = (raisedAt: number) => (now: number) => (now < raisedAt ? 100 : 400);

  it('with quotaValue: keeps the exact 100 through the quiet period, then finds 400', () => {
    const first = simulate({ hidden: hidden(10 * MIN), withQuotaValue: true, minutes: 10, params });
    expect(admittedLimit(first.state, first.now, params)).toBe(100);
    const last429 = first.state.last429At ?? 0;
    const waiting = simulate({ hidden: hidden(10 * MIN), withQuotaValue: true, minutes: (last429 + HOUR - first.now) / MIN - 1, params, start: first });
    expect(admittedLimit(waiting.state, waiting.now, params)).toBe(100);
    const after = simulate({ hidden: hidden(10 * MIN), withQuotaValue: true, minutes: 3 * 60, params, start: waiting });
    expect(admittedLimit(after.state, after.now, params)).toBe(400);
    expect(after.state.phase).toBe('exact');
    // the ramp, finding 400, and at most one upward probe per quiet period of the whole run
    expect(after.quota429s).toBeLessThanOrEqual(1 + 1 + Math.floor(after.now / params.quietMs));
    console.log(`tier upgrade with quotaValue: ${after.quota429s} quota 429s in total`);
  });

  it('without quotaValue: climbs past the old ceiling after the quiet period and settles near 400', () => {
    const first = simulate({ hidden: hidden(30 * MIN), withQuotaValue: false, minutes: 30, params });
    expect(within(admittedLimit(first.state, first.now, params), 100, 0.05)).toBe(true);
    const after = simulate({ hidden: hidden(30 * MIN), withQuotaValue: false, minutes: 4 * 60, params, start: first });
    expect(within(admittedLimit(after.state, after.now, params), 400, 0.05)).toBe(true);
    console.log(`tier upgrade without quotaValue: ${after.quota429s} quota 429s in total`);
  });
});

describe('discoveryStep', () => {
  const now = 1_000_000;

  it('does not move on spend-cap or capacity 429s', () => {
    const states: DiscoveryState[] = [
      initialDiscovery(5, 0),
      { ...initialDiscovery(5, 0), limit: 300, phase: 'additive', ceiling: 600, last429At: 10, lastCutAt: 10 },
      { ...initialDiscovery(5, 0), limit: 400, phase: 'exact', ceiling: 400, last429At: 10, lastCutAt: 10 },
    ];
    for (const s of states) expect(discoveryStep(s, { kind: 'other429' }, now)).toEqual(s);
  });

  it('does not grow without use near the limit, in any phase, quiet or not', () => {
    const states: DiscoveryState[] = [
      { ...initialDiscovery(5, 0), limit: 100 },
      { ...initialDiscovery(5, 0), limit: 100, phase: 'additive', ceiling: 400, last429At: 0, lastCutAt: 0 },
      { ...initialDiscovery(5, 0), limit: 100, phase: 'exact', ceiling: 100, last429At: 0, lastCutAt: 0 },
    ];
    for (const s of states) {
      let t = s;
      for (let i = 0; i < 1000; i++) t = discoveryStep(t, { kind: 'success', used: 79 }, now + 48 * HOUR + i);
      expect(t.limit).toBe(s.limit);
    }
  });

  it('slow start adds each success amount (tokens for TPM)', () => {
    const s = { ...initialDiscovery(250_000, 0) };
    const t = discoveryStep(s, { kind: 'success', used: 240_000, amount: 3_000 }, now);
    expect(t.limit).toBe(253_000);
  });

  it('a value-less 429 halves (never below the floor) and cuts once per window', () => {
    const s: DiscoveryState = { ...initialDiscovery(5, 0), limit: 8 };
    const cut = discoveryStep(s, { kind: 'quota429', used: 9 }, now);
    expect(cut).toMatchObject({ limit: 5, phase: 'additive', ceiling: 8, last429At: now, lastCutAt: now });
    const again = discoveryStep({ ...cut, limit: 40 }, { kind: 'quota429', used: 7 }, now + 1000);
    expect(again.limit).toBe(40);
    expect(again.ceiling).toBe(6);
    const nextWindow = discoveryStep({ ...cut, limit: 40 }, { kind: 'quota429' }, now + MIN);
    expect(nextWindow.limit).toBe(20);
  });

  it('a quotaValue sets the limit exactly, even zero; a zero quota is retried once per quiet period', () => {
    const s = discoveryStep(initialDiscovery(5, 0), { kind: 'quota429', quotaValue: 0 }, now);
    expect(s).toMatchObject({ limit: 0, phase: 'exact', ceiling: 0 });
    expect(admittedLimit(s, now + HOUR)).toBe(0);
    expect(admittedLimit(s, now + 24 * HOUR)).toBe(1);
  });

  it('keeps a JSON round trip', () => {
    const s = discoveryStep(initialDiscovery(5, 0), { kind: 'quota429', used: 6 }, now);
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });
});
