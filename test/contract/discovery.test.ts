import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_DISCOVERY_PARAMS,
  initialDiscovery,
  storedAdmittedLimit,
  storedDiscoveryStep,
  type DiscoveryParams, type DiscoveryState } from '../../src/core/discovery.js';
import { replayLua, replayReference, seedLua, type Dim, type Observation, type Step } from '../helpers/discovery-harness.js';
import { emptyTrace, simulateTrace } from '../helpers/discovery-trace.js';
import { TEST_REDIS_URL, dropPrefix, testPrefix } from '../helpers/redis.js';

/**
 * Discovery's pure model (src/core/discovery.ts) and its Lua
 * (commands/includes/discovery.lua) replay the same steps at the same
 * instants and must agree after every one: the stored state field by field
 * (doubles exactly), whether anything was written, and the admitted limit as
 * admission reads it.
 */
const MIN = 60_000;
const HOUR = 60 * MIN;
const prefix = testPrefix('discovery');
let redis: Redis;
let n = 0;

beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL);
});
afterAll(async () => {
  await dropPrefix(prefix);
  redis.disconnect();
});

async function agree(steps: readonly Step[], params: DiscoveryParams, start: Partial<Record<Dim, DiscoveryState>> = {}): Promise<Observation[]> {
  const key = `${prefix}:s:p${n++}|m:st`;
  for (const dim of ['rpm', 'tpm'] as const) {
    const state = start[dim];
    if (state) await seedLua(redis, key, dim, state);
  }
  const lua = await replayLua(redis, key, steps, params);
  const reference = replayReference(steps, params, start);
  expect(lua).toHaveLength(reference.length);
  const first = lua.findIndex((o, i) => !isDeepStrictEqual(o, reference[i]));
  if (first >= 0) expect(lua[first], `step ${first}: ${JSON.stringify(steps[first])}`).toStrictEqual(reference[first]);
  return lua;
}

const last = (obs: readonly Observation[]): Observation => {
  const o = obs.at(-1);
  if (o === undefined) throw new Error('no steps were replayed');
  return o;
};

describe('discovery contract: the ramps of the unit tests', () => {
  const params = DEFAULT_DISCOVERY_PARAMS;

  it('5 -> 600 with quotaValue: the Lua ends at exactly 600', async () => {
    const trace = simulateTrace(emptyTrace(), { hidden: () => 600, withQuotaValue: true, minutes: 30, params });
    const end = last(await agree(trace.steps, params));
    expect(end.admitted).toBe(600);
    expect(end.state?.phase).toBe('exact');
  });

  it('5 -> 600 without quotaValue: the Lua settles within 5% under 600', async () => {
    const trace = simulateTrace(emptyTrace(), { hidden: () => 600, withQuotaValue: false, minutes: 55, params });
    const end = last(await agree(trace.steps, params));
    expect(end.admitted).toBeLessThanOrEqual(600);
    expect(end.admitted).toBeGreaterThanOrEqual(570);
    expect(end.state?.phase).toBe('additive');
  });
});

describe('discovery contract: a tier upgrade from 100 to 400', () => {
  const params: DiscoveryParams = { ...DEFAULT_DISCOVERY_PARAMS, quietMs: HOUR };

  it('with quotaValue: the exact 100 holds through the quiet period, then 400 is found', async () => {
    const hidden = (now: number): number => (now < 10 * MIN ? 100 : 400);
    const trace = simulateTrace(emptyTrace(), { hidden, withQuotaValue: true, minutes: 10, params });
    const atRaise = trace.steps.length - 1;
    const quietEnds = (trace.state?.last429At ?? 0) + HOUR;
    simulateTrace(trace, { hidden, withQuotaValue: true, minutes: (quietEnds - trace.now) / MIN - 1, params });
    const beforeQuietEnds = trace.steps.length - 1;
    simulateTrace(trace, { hidden, withQuotaValue: true, minutes: 3 * 60, params });
    const lua = await agree(trace.steps, params);
    expect(lua[atRaise]?.admitted).toBe(100);
    expect(lua[beforeQuietEnds]?.admitted).toBe(100);
    expect(last(lua).admitted).toBe(400);
    expect(last(lua).state?.phase).toBe('exact');
  });

  it('without quotaValue: near 100, then past the old ceiling to near 400', async () => {
    const hidden = (now: number): number => (now < 30 * MIN ? 100 : 400);
    const trace = simulateTrace(emptyTrace(), { hidden, withQuotaValue: false, minutes: 30, params });
    const atRaise = trace.steps.length - 1;
    simulateTrace(trace, { hidden, withQuotaValue: false, minutes: 4 * 60, params });
    const lua = await agree(trace.steps, params);
    expect(Math.abs((lua[atRaise]?.admitted ?? 0) - 100)).toBeLessThanOrEqual(5);
    expect(Math.abs(last(lua).admitted - 400)).toBeLessThanOrEqual(20);
  });
});

describe('discovery contract: the step cases of the unit tests', () => {
  const params = DEFAULT_DISCOVERY_PARAMS;
  const now = 1_000_000;
  const seeded: DiscoveryState[] = [
    { ...initialDiscovery(5, 0), limit: 100 },
    { ...initialDiscovery(5, 0), limit: 300.25, phase: 'additive', ceiling: 600, last429At: 10, lastCutAt: 10 },
    { ...initialDiscovery(5, 0), limit: 400, phase: 'exact', ceiling: 400, last429At: 10, lastCutAt: 10 },
  ];

  it('other429 changes nothing and writes nothing, stored or not', async () => {
    const steps: Step[] = [0, 1, 2].map((i) => ({ dim: 'rpm', floor: 5, now: now + i * HOUR * 24, event: { kind: 'other429' } }));
    for (const rpm of seeded) {
      const lua = await agree(steps, params, { rpm });
      expect(lua.every((o) => !o.changed && isDeepStrictEqual(o.state, rpm))).toBe(true);
    }
    const fresh = await agree(steps, params);
    expect(fresh.every((o) => o.state === null && o.admitted === 5)).toBe(true);
  });

  it('no growth without use near the limit, in any phase, quiet or not', async () => {
    const steps: Step[] = Array.from({ length: 1000 }, (_, i) => ({ dim: 'rpm', floor: 5, now: now + 48 * HOUR + i, event: { kind: 'success', used: 79 } }));
    for (const rpm of seeded) {
      const lua = await agree(steps, params, { rpm });
      expect(last(lua).state?.limit).toBe(rpm.limit);
      expect(lua.some((o) => o.changed)).toBe(false);
    }
  });

  it('slow start adds tokens; a value-less 429 halves once per window; a zero quota is retried after the quiet period', async () => {
    const tpm = await agree([{ dim: 'tpm', floor: 250_000, now, event: { kind: 'success', used: 240_000, amount: 3_000 } }], params);
    expect(last(tpm).state?.limit).toBe(253_000);

    const cuts = await agree(
      [
        { dim: 'rpm', floor: 5, now, event: { kind: 'quota429', used: 9 } },
        { dim: 'rpm', floor: 5, now: now + 1000, event: { kind: 'quota429', used: 7 } },
        { dim: 'rpm', floor: 5, now: now + MIN, event: { kind: 'quota429' } },
      ],
      params,
      { rpm: { ...initialDiscovery(5, 0), limit: 8 } },
    );
    expect(cuts.map((o) => o.state?.limit)).toEqual([5, 5, 5]);
    expect(cuts.map((o) => o.state?.ceiling)).toEqual([8, 6, 5]);

    const zero = await agree(
      [
        { dim: 'rpm', floor: 5, now, event: { kind: 'quota429', quotaValue: 0 } },
        { dim: 'rpm', floor: 5, now: now + HOUR, event: 'admit' },
        { dim: 'rpm', floor: 5, now: now + 24 * HOUR, event: 'admit' },
      ],
      params,
    );
    expect(zero.map((o) => o.admitted)).toEqual([0, 0, 1]);
  });

  it('the settling cap rounds as the JS does: 500 * (1 - 0.07) is 464.99999999999994, so 464', async () => {
    const lua = await agree(
      [{ dim: 'rpm', floor: 5, now, event: { kind: 'success', used: 463 } }],
      { ...params, margin: 0.07 },
      { rpm: { ...initialDiscovery(5, 0), limit: 463.99, phase: 'additive', ceiling: 500, last429At: now - MIN, lastCutAt: now - MIN } },
    );
    expect(last(lua).state?.limit).toBe(464);
  });
});

/** A step as generated: `share` places `used` relative to the admitted limit at replay time, where the limit is known. */
interface GenStep {
  dim: Dim;
  dt: number;
  kind: 'success' | 'quota429' | 'other429' | 'admit';
  share: number;
  round: boolean;
  withUsed: boolean;
  amount: number | undefined;
  quotaValue: number | null | undefined;
}

const paramsArb: fc.Arbitrary<DiscoveryParams> = fc.record({
  windowMs: fc.integer({ min: 1, max: 120_000 }),
  quietMs: fc.integer({ min: 1, max: 2 * HOUR }),
  nearFraction: fc.double({ min: 0, max: 1, noNaN: true }),
  margin: fc.double({ min: 0, max: 0.5, noNaN: true }),
  stepFraction: fc.double({ min: 0, max: 0.5, noNaN: true }),
});

const stepArb = (p: DiscoveryParams): fc.Arbitrary<GenStep> =>
  fc.record({
    dim: fc.constantFrom<Dim>('rpm', 'tpm'),
    // the boundaries (a window, a quiet period) exactly, as well as anywhere in a few of them
    dt: fc.oneof(fc.constantFrom(0, p.windowMs, p.quietMs), fc.integer({ min: 0, max: 2 * p.windowMs }), fc.integer({ min: 0, max: 3 * p.quietMs })),
    kind: fc.constantFrom('success', 'success', 'success', 'quota429', 'other429', 'admit'),
    // use near the limit often: that is where the limit moves
    share: fc.oneof(fc.double({ min: 0, max: 1.5, noNaN: true }), fc.double({ min: p.nearFraction, max: 1.1, noNaN: true })),
    round: fc.boolean(),
    withUsed: fc.boolean(),
    amount: fc.option(fc.oneof(fc.integer({ min: -2, max: 5_000 }), fc.double({ min: 0, max: 10, noNaN: true })), { nil: undefined }),
    quotaValue: fc.oneof(
      fc.constant(undefined),
      fc.constant(null),
      fc.integer({ min: 0, max: 2_000 }),
      fc.double({ min: 0, max: 2_000, noNaN: true }),
      fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -5),
    ),
  });

const floorsArb = fc.record({
  rpm: fc.oneof(fc.integer({ min: 0, max: 50 }), fc.double({ min: 0, max: 50, noNaN: true })),
  tpm: fc.integer({ min: 0, max: 300_000 }),
});

function eventOf(g: GenStep, used: number): Step['event'] {
  switch (g.kind) {
    case 'admit':
      return 'admit';
    case 'other429':
      return { kind: 'other429' };
    case 'success':
      return { kind: 'success', used, amount: g.amount };
    case 'quota429':
      return { kind: 'quota429', quotaValue: g.quotaValue, ...(g.withUsed ? { used, amount: g.amount } : {}) };
  }
}

/** Turns generated steps into events, placing `used` against the reference's admitted limit at that instant. */
function materialise(gen: readonly GenStep[], floors: Record<Dim, number>, params: DiscoveryParams): Step[] {
  const states: Record<Dim, DiscoveryState | null> = { rpm: null, tpm: null };
  let now = 1_700_000_000_000;
  return gen.map((g) => {
    now += g.dt;
    const floor = floors[g.dim];
    const raw = g.share * storedAdmittedLimit(states[g.dim], floor, now, params);
    const used = g.round ? Math.round(raw) : raw;
    const event = eventOf(g, used);
    if (event !== 'admit') states[g.dim] = storedDiscoveryStep(states[g.dim], floor, event, now, params);
    return { dim: g.dim, floor, now, event };
  });
}

describe('discovery contract: random sequences', () => {
  const RUNS = 500;
  let runs = 0;

  it(`agree on any sequence of steps, params and floors (${RUNS} random sequences)`, async () => {
    const arb = paramsArb.chain((params) => fc.record({ params: fc.constant(params), floors: floorsArb, gen: fc.array(stepArb(params), { minLength: 1, maxLength: 80, size: 'max' }) }));
    await fc.assert(
      fc.asyncProperty(arb, async ({ params, floors, gen }) => {
        runs++;
        await agree(materialise(gen, floors, params), params);
      }),
      { numRuns: RUNS },
    );
    expect(runs).toBeGreaterThanOrEqual(RUNS);
  });
});
