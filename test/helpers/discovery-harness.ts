import type { Redis } from 'ioredis';
import { z } from 'zod';
import { scriptSource } from '../../src/adapters/redis/scripts.js';
import { DISCOVERY_FIELD_KEYS, discoveryEventArgs, discoveryFieldNames, discoveryParamArgs, parseDiscoveryFields } from '../../src/adapters/redis/discovery-fields.js';
import { storedAdmittedLimit, storedDiscoveryStep, type DiscoveryEvent, type DiscoveryParams, type DiscoveryState } from '../../src/core/discovery.js';

/**
 * Drives the very Lua the scripts include (commands/includes/discovery.lua)
 * and its pure reference (src/core/discovery.ts) through the same steps, so
 * a contract test can compare them after every one. The harness script runs
 * a batch of steps in one EVAL, with the clock passed in.
 */
const HARNESS = `${scriptSource('includes/discovery')}
-- ARGV: the 5 params, then per step: dim, floor, now, kind ('admit' only reads), used, amount, quotaValue
local hash = KEYS[1]
local p = discoveryParams(ARGV, 1)
local out = {}
for i = 6, #ARGV, 7 do
  local dim, floor, now, kind = ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2]), ARGV[i + 3]
  local changed = 0
  if kind ~= 'admit' then
    changed = discoveryStep(hash, dim, kind, tonumber(ARGV[i + 4]), tonumber(ARGV[i + 5]), tonumber(ARGV[i + 6]), floor, now, p)
  end
  -- as admission reads it: two fields per dimension, folded into its own HMGET
  local f = discoveryFields(dim)
  local r = redis.call('HMGET', hash, f[1], f[2])
  out[#out + 1] = string.format('%.17g', discoveryAdmittedOf(r[1], r[2], floor, now, p.quietMs))
  out[#out + 1] = string.format('%.17g', discoveryAdmitted(hash, dim, floor, now, p.quietMs))
  out[#out + 1] = changed
  local raw = redis.call('HMGET', hash, ${DISCOVERY_FIELD_KEYS.map((x) => `'d.' .. dim .. '.${x}'`).join(', ')})
  for j = 1, ${DISCOVERY_FIELD_KEYS.length} do out[#out + 1] = raw[j] end
end
return out
`;

export type Dim = 'rpm' | 'tpm';

export interface Step {
  dim: Dim;
  floor: number;
  now: number;
  /** 'admit': only read the admitted limit */
  event: DiscoveryEvent | 'admit';
}

/** What one step leaves behind: the admitted limit (read two ways by the Lua), whether it wrote, the stored state. */
export interface Observation {
  admitted: number;
  admittedByHash: number;
  changed: boolean;
  state: DiscoveryState | null;
}

/** The pure reference: per dimension, a state that is null until an event changes it. */
export function replayReference(steps: readonly Step[], params: DiscoveryParams, start: Partial<Record<Dim, DiscoveryState>> = {}): Observation[] {
  const states: Record<Dim, DiscoveryState | null> = { rpm: start.rpm ?? null, tpm: start.tpm ?? null };
  return steps.map(({ dim, floor, now, event }) => {
    const before = states[dim];
    const after = event === 'admit' ? before : storedDiscoveryStep(before, floor, event, now, params);
    states[dim] = after;
    const admitted = storedAdmittedLimit(after, floor, now, params);
    return { admitted, admittedByHash: admitted, changed: after !== before, state: after };
  });
}

const reply = z.array(z.union([z.string(), z.number(), z.null()]));
const BATCH = 500;
const WIDTH = 3 + DISCOVERY_FIELD_KEYS.length;

function stepArgs({ dim, floor, now, event }: Step): string[] {
  const ev = event === 'admit' ? ['admit', '', '', ''] : discoveryEventArgs(event);
  return [dim, String(floor), String(now), ...ev];
}

/** The Lua, on the hash at `key`, batch by batch. */
export async function replayLua(redis: Redis, key: string, steps: readonly Step[], params: DiscoveryParams): Promise<Observation[]> {
  const out: Observation[] = [];
  for (let i = 0; i < steps.length; i += BATCH) {
    const batch = steps.slice(i, i + BATCH);
    const raw = reply.parse(await redis.eval(HARNESS, 1, key, ...discoveryParamArgs(params), ...batch.flatMap(stepArgs)));
    batch.forEach((step, j) => {
      const row = raw.slice(j * WIDTH, (j + 1) * WIDTH).map((v) => (v === null ? null : String(v)));
      out.push({
        admitted: Number(row[0]),
        admittedByHash: Number(row[1]),
        changed: row[2] === '1',
        state: parseDiscoveryFields(step.dim, row.slice(3)),
      });
    });
  }
  return out;
}

/** Stores a state as the scripts would find it (numbers as String() writes them: exact round trip). */
export async function seedLua(redis: Redis, key: string, dim: Dim, s: DiscoveryState): Promise<void> {
  const phase = { 'slow-start': 's', additive: 'a', exact: 'e' }[s.phase];
  const values = [s.limit, s.floor, phase, s.ceiling, s.last429At, s.lastCutAt, s.since];
  const names = discoveryFieldNames(dim);
  const pairs = names.flatMap((name, i) => {
    const v = values[i];
    return v === null || v === undefined ? [] : [name, String(v)];
  });
  await redis.hset(key, ...pairs);
}
