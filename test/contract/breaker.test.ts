import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scriptSource } from '../../src/adapters/redis/scripts.js';
import { breakerStep, canPass, CLOSED, type BreakerConfig, type BreakerEvent, type BreakerState } from '../../src/core/breaker.js';
import { TEST_REDIS_URL, dropPrefix, testPrefix } from '../helpers/redis.js';

/**
 * The breaker's pure model (src/core/breaker.ts) and its Lua
 * (commands/includes/breaker.lua) replay the same event sequences at the
 * same instants and must agree after every step, on the state and on
 * whether a request may pass. The harness below drives the very Lua the
 * scripts include, with the clock passed in.
 */
const HARNESS = `${scriptSource('includes/breaker')}
local st, ev, now = KEYS[1], ARGV[1], tonumber(ARGV[2])
local threshold, openMs, probeTimeout = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
if ev == 'pass' then
  if breakerFreeAt(st, now, probeTimeout) <= now then breakerPass(st, now, probeTimeout) end
elseif ev == 'success' or ev == 'failure' then
  breakerReport(st, ev, now, threshold, openMs)
end
local b = redis.call('HMGET', st, 'b', 'bu', 'bp', 'bf')
local free = 0
if breakerFreeAt(st, now, probeTimeout) <= now then free = 1 end
return { b[1] or 'c', b[2] or '', b[3] or '', b[4] or '', free }
`;

const cfg: BreakerConfig = { failureThreshold: 3, openMs: 1_000, probeTimeoutMs: 400 };
const prefix = testPrefix('breaker');
let redis: Redis;
let n = 0;

beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL);
});
afterAll(async () => {
  await dropPrefix(prefix);
  redis.disconnect();
});

function fromLua(reply: Array<string | number>): BreakerState {
  const [b, bu, bp, bf] = reply.map(String);
  if (b === 'o') return { kind: 'open', untilMs: Number(bu) };
  if (b === 'h') return { kind: 'half_open', probeAtMs: Number(bp) };
  return { kind: 'closed', failures: Number(bf || 0) };
}

async function replay(events: Array<{ event: BreakerEvent | 'check'; dt: number }>): Promise<void> {
  const key = `${prefix}:s:p${n++}|m:st`;
  let pure: BreakerState = CLOSED;
  let now = 1_000_000;
  for (const { event, dt } of events) {
    now += dt;
    // admission only lets a request pass when the breaker allows it
    if (event === 'pass') {
      if (canPass(pure, now, cfg)) pure = breakerStep(pure, 'pass', now, cfg);
    } else if (event !== 'check') pure = breakerStep(pure, event, now, cfg);
    const reply = (await redis.eval(HARNESS, 1, key, event, now, cfg.failureThreshold, cfg.openMs, cfg.probeTimeoutMs)) as Array<string | number>;
    expect(fromLua(reply)).toEqual(pure);
    expect(Number(reply[4]) === 1).toBe(canPass(pure, now, cfg));
  }
}

describe('breaker contract: pure model and Lua agree', () => {
  it('opens at the threshold, one probe after the open period, a success closes it', async () => {
    await replay([
      { event: 'failure', dt: 0 },
      { event: 'failure', dt: 10 },
      { event: 'success', dt: 10 },
      { event: 'failure', dt: 10 },
      { event: 'failure', dt: 10 },
      { event: 'failure', dt: 10 },
      { event: 'pass', dt: 500 },
      { event: 'pass', dt: 600 },
      { event: 'pass', dt: 10 },
      { event: 'success', dt: 10 },
    ]);
  });

  it('an open period that ended with no probe admitted: a late failure re-opens, a late success closes', async () => {
    await replay([
      { event: 'failure', dt: 0 },
      { event: 'failure', dt: 0 },
      { event: 'failure', dt: 0 },
      { event: 'check', dt: 1_500 },
      { event: 'failure', dt: 0 },
      { event: 'check', dt: 1_200 },
      { event: 'success', dt: 0 },
      { event: 'pass', dt: 0 },
    ]);
  });

  it('a probe that never reports frees its slot after the probe timeout', async () => {
    await replay([
      { event: 'failure', dt: 0 },
      { event: 'failure', dt: 0 },
      { event: 'failure', dt: 0 },
      { event: 'pass', dt: 1_001 },
      { event: 'pass', dt: 100 },
      { event: 'pass', dt: 400 },
      { event: 'failure', dt: 10 },
    ]);
  });

  it('agree on any sequence (200 random sequences)', async () => {
    const step = fc.record({ event: fc.constantFrom<BreakerEvent | 'check'>('pass', 'success', 'failure', 'check'), dt: fc.integer({ min: 0, max: 1_500 }) });
    await fc.assert(fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 25 }), (events) => replay(events)), { numRuns: 200 });
  });
});
