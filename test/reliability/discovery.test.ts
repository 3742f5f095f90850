import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDiscoveryStates } from '../../src/adapters/redis/discovery-store.js';
import { redisKeys } from '../../src/adapters/redis/keys.js';
import type { DiscoveryState } from '../../src/core/discovery.js';
import { scopeOf } from '../../src/core/scope.js';
import { parseSimulatorConfig, type SimCall } from '../../src/simulator/index.js';
import { dropPrefix, TEST_REDIS_URL } from '../helpers/redis.js';
import { sleep, startRelStack, until, type RelStack } from './helpers/rel-stack.js';

/**
 * Limits nobody configured, learned by 4 real worker processes from the
 * stand-in alone. Time is compressed: a 20 s window on both sides (400 calls
 * per window must fit the machine's throughput under load).
 * - p1 (true limit 40, 429s WITHOUT quotaValue): slow start, one cut, the
 *   additive climb to just under 40; from then on no window sends more than
 *   40 and no call is refused.
 * - p2 (true limit 100, 429s with quotaValue): exact at 100.
 * - The discovered limits are kept in Postgres (`discovery-sync`); after the
 *   scope keys are flushed from Redis, workers started anew restore them.
 * - Those new workers run with a short quiet period; p2's tier was raised to
 *   400 meanwhile: its probe finds 400 within a few windows.
 * The first workers run with a quiet period of an hour, so nothing probes
 * while p1 settles.
 */
const MODEL = 'gemini-x-experimental';
const WINDOW_MS = 20_000;
const WORKERS = 4;
const CONCURRENCY = 4;
const SLOTS = WORKERS * CONCURRENCY;
const P1 = 40;
const P2 = 100;
const P2_RAISED = 400;
const QUIET_LONG_MS = 3_600_000;
const QUIET_SHORT_MS = 2 * WINDOW_MS;
/** where quotaflow starts for a model no layer knows */
const FLOOR = 5;

const sim = parseSimulatorConfig({
  windowMs: WINDOW_MS,
  latencyMs: { min: 5, max: 15 },
  maxCallLog: 100_000,
  models: { [MODEL]: { rpm: 1_000, tpm: 100_000_000, rpd: 1_000_000 } },
  projects: [
    { id: 'p1', tier: 'tier1', quotaValueInErrors: false, limits: { [MODEL]: { rpm: P1 } }, keys: [{ secret: 'sk-discovery-rel-0001', label: 'k1' }] },
    { id: 'p2', tier: 'tier1', quotaValueInErrors: true, limits: { [MODEL]: { rpm: P2 } }, keys: [{ secret: 'sk-discovery-rel-0002', label: 'k2' }] },
  ],
});
// the fleet states no limit for the model: quotaflow starts at the floor
const fleet = {
  models: [MODEL],
  projects: [
    { id: 'p1', tier: 'tier1' },
    { id: 'p2', tier: 'tier1' },
  ],
  tenants: [
    { id: 't1', keyMode: 'own-only' },
    { id: 't2', keyMode: 'own-only' },
  ],
  keys: [
    { id: 'k1', tenant: 't1', project: 'p1', secret: 'sk-discovery-rel-0001' },
    { id: 'k2', tenant: 't2', project: 'p2', secret: 'sk-discovery-rel-0002' },
  ],
};
const TENANT_OF = { p1: 't1', p2: 't2' } as const;
type Project = keyof typeof TENANT_OF;

let stack: RelStack;
type Held = { limit: number; source: string } | undefined;

const calls = (project: Project, from = 0, to = Number.POSITIVE_INFINITY): SimCall[] =>
  stack.sim
    .stats()
    .calls.filter((c) => c.method === 'generateContent' && c.project === project && c.at >= from && c.at < to)
    .sort((a, b) => a.at - b.at);

/** the most calls in any sliding window among `at` (sorted) */
function mostInWindow(at: readonly number[]): number {
  let best = 0;
  for (let i = 0, j = 0; i < at.length; i++) {
    while ((at[i] ?? 0) - (at[j] ?? 0) >= WINDOW_MS) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

/** the scope's rpm discovery state, straight from Redis (undefined: nothing discovered yet) */
async function rpmState(project: Project): Promise<DiscoveryState | undefined> {
  return (await createDiscoveryStates(stack.redis, redisKeys(stack.prefix)).read(scopeOf(project, MODEL))).rpm;
}

/** the rpm limit the workers admit by (null: nothing discovered yet) */
async function heldRpm(project: Project): Promise<number | null> {
  const s = await rpmState(project);
  return s ? Math.floor(s.limit) : null;
}

async function statusRpm(): Promise<Record<Project, Held>> {
  const r = await stack.cli(['status', '--json']);
  expect(r.code, r.stderr).toBe(0);
  const scopes = (JSON.parse(r.stdout) as { scopes: Array<{ projectId: string; model: string; rpm: { limit: number; source: string } }> }).scopes;
  const of = (p: Project): Held => {
    const rpm = scopes.find((s) => s.projectId === p && s.model === MODEL)?.rpm;
    return rpm ? { limit: rpm.limit, source: rpm.source } : undefined;
  };
  return { p1: of('p1'), p2: of('p2') };
}

/**
 * Keeps each fed project's backlog above what the workers admit per window
 * (1.5 × the held limit, plus every worker slot), so each window is used up
 * and discovery has the evidence to grow on; a larger backlog would only
 * bounce through the delayed set. Outstanding = enqueued - answered 200.
 */
function startFeeder(projects: Project[]): { stop(): Promise<void> } {
  let stopped = false;
  const enqueued: Record<Project, number> = { p1: 0, p2: 0 };
  const ok: Record<Project, number> = { p1: 0, p2: 0 };
  // only the calls since the last look (the full log is large to copy every 200 ms)
  let seen = stack.sim.calls({ last: 1 })[0]?.seq ?? 0;
  const loop = (async () => {
    let n = 0;
    while (!stopped) {
      for (const c of stack.sim.calls({ last: 2_000 })) {
        if (c.seq <= seen) continue;
        seen = c.seq;
        if (c.method === 'generateContent' && c.status === 200 && (c.project === 'p1' || c.project === 'p2')) ok[c.project]++;
      }
      for (const p of projects) {
        const missing = Math.ceil(1.5 * ((await heldRpm(p)) ?? FLOOR)) + SLOTS - (enqueued[p] - ok[p]);
        if (missing <= 0) continue;
        await stack.enqueueAll(Array.from({ length: missing }, () => ({ tenantId: TENANT_OF[p], contents: `discover ${n++}`, deadlineMs: 1_800_000 })));
        enqueued[p] += missing;
      }
      await sleep(200);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

async function stopWorkers(): Promise<void> {
  for (const w of stack.workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGTERM');
  await Promise.all(stack.workers.map((w) => w.exited));
}

async function startWorkers(): Promise<void> {
  // one after another: four cold starts at once can outlast the start timeout on a loaded machine
  for (let i = 0; i < WORKERS; i++) await stack.startWorker(['--concurrency', String(CONCURRENCY)]);
}

async function flushScopeKeys(): Promise<number> {
  let removed = 0;
  let cursor = '0';
  do {
    const [next, keys] = await stack.redis.scan(cursor, 'MATCH', `${stack.prefix}:s:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) removed += await stack.redis.del(...keys);
  } while (cursor !== '0');
  return removed;
}

// phase 1
let p1SettledAt = 0;
let p1Held: number | null = null;
let p1Observed: SimCall[] = [];
let p1RefusedBeforeSettle = 0;
let p2Held: number | null = null;
let beforeFlush: Record<Project, Held>;
let afterFlush: Record<Project, Held>;
let flushed = 0;
// phase 2
let restored: Record<Project, Held>;
let phase2Start = 0;
let raisedFoundAt = 0;
let p2FinalHeld: number | null = null;
let phase2End: Record<Project, Held>;

beforeAll(async () => {
  stack = await startRelStack({ name: 'discovery', sim, redisUrl: TEST_REDIS_URL, env: { QUOTAFLOW_WINDOW_MS: String(WINDOW_MS), QUOTAFLOW_DISCOVERY_QUIET_MS: String(QUIET_LONG_MS) } });
  await stack.applyFleet(fleet);
  await startWorkers();

  // phase 1: both scopes learn from the floor
  const feeder = startFeeder(['p1', 'p2']);
  try {
    // p1 settles: past slow start (a 429 cut it), climbed back to 90 % of the real limit; read every second
    // (a second value-less 429 may still cut once, when the stand-in counted fewer calls than quotaflow at the
    // first: then wait for the climb again)
    const inBand = (s: DiscoveryState | undefined): boolean => s !== undefined && s.phase === 'additive' && Math.floor(s.limit) >= Math.floor(0.9 * P1);
    const t0 = Date.now();
    while (p1SettledAt === 0 && Date.now() - t0 < 600_000) {
      expect(await until(async () => inBand(await rpmState('p1')), 600_000, 1_000), 'p1 never settled near its real limit').toBe(true);
      const cut = (await rpmState('p1'))?.lastCutAt;
      const at = Date.now();
      // watch it hold for 4 windows under steady demand
      await sleep(4 * WINDOW_MS + 1_000);
      const after = await rpmState('p1');
      if (!inBand(after) || after?.lastCutAt !== cut) continue;
      p1SettledAt = at;
      p1Held = after ? Math.floor(after.limit) : null;
    }
    expect(p1SettledAt, 'p1 never held near its real limit for 4 windows').toBeGreaterThan(0);
    p1RefusedBeforeSettle = calls('p1', 0, p1SettledAt).filter((c) => c.status === 429).length;
    p1Observed = calls('p1', p1SettledAt, p1SettledAt + 4 * WINDOW_MS);
    expect(await until(async () => (await heldRpm('p2')) === P2, 240_000, 1_000), 'p2 never learned its exact limit').toBe(true);
    p2Held = await heldRpm('p2');
  } finally {
    await feeder.stop();
  }

  // phase 2: stop every worker, keep the states (the maintenance job), lose the scope keys, raise p2's tier
  await stack.queue.drain(true);
  await stopWorkers();
  await stack.queue.drain(true);
  const sync = await stack.cli(['maintenance', '--once', 'discovery-sync']);
  expect(sync.code, sync.stderr).toBe(0);
  beforeFlush = await statusRpm();
  flushed = await flushScopeKeys();
  afterFlush = await statusRpm();
  stack.sim.setLimits('p2', MODEL, { rpm: P2_RAISED });

  // new workers, with a quiet period p2 has long passed: they restore the states, then p2 probes upward
  stack.env.QUOTAFLOW_DISCOVERY_QUIET_MS = String(QUIET_SHORT_MS);
  await startWorkers();
  restored = await statusRpm();
  phase2Start = Date.now();
  const feeder2 = startFeeder(['p2']);
  try {
    const found = await until(async () => (await heldRpm('p2')) === P2_RAISED, 480_000, 500);
    const perWindow = (from: number): number[] => {
      const at = calls('p2', from).map((c) => c.at);
      return Array.from({ length: Math.ceil(((at[at.length - 1] ?? from) - from) / WINDOW_MS) }, (_, i) => at.filter((t) => t >= from + i * WINDOW_MS && t < from + (i + 1) * WINDOW_MS).length);
    };
    expect(found, `p2 never found its raised limit: held ${await heldRpm('p2')}, calls per window ${perWindow(phase2Start).join(' ')}`).toBe(true);
    raisedFoundAt = Date.now();
    p2FinalHeld = await heldRpm('p2');
  } finally {
    await feeder2.stop();
  }
  // no demand left, so no further probe moves it while status runs
  await stack.queue.drain(true);
  phase2End = await statusRpm();
}, 1_200_000);

afterAll(async () => {
  await stack?.stop();
  if (stack) await dropPrefix(stack.prefix, TEST_REDIS_URL);
});

describe('discovery of limits nobody configured, 4 worker processes', () => {
  it('without quotaValue: settles just under the real limit after a bounded number of 429s, then never sends more than it', () => {
    const refused = calls('p1', 0, p1SettledAt).filter((c) => c.status === 429);
    const firstRefusal = refused[0]?.at ?? 0;
    console.warn(
      `p1: ${p1RefusedBeforeSettle} × 429 until settled at ${p1Held} (real ${P1}), ${((p1SettledAt - (calls('p1')[0]?.at ?? 0)) / 1000).toFixed(1)} s after the first call; ` +
        `after settling: most sent in a window ${mostInWindow(p1Observed.map((c) => c.at))}, fewest ok in a window ${fewestInWindow(p1Observed)}`,
    );
    // learning costs 429s: at most two value-less cuts, each with the calls then in flight
    expect(p1RefusedBeforeSettle).toBeGreaterThanOrEqual(1);
    expect(p1RefusedBeforeSettle).toBeLessThanOrEqual(2 * (1 + SLOTS));
    expect(firstRefusal).toBeGreaterThan(0);
    // settled within 10 % under the real limit, never above it
    expect(p1Held).not.toBeNull();
    expect(p1Held ?? 0).toBeGreaterThanOrEqual(Math.floor(0.9 * P1));
    expect(p1Held ?? 0).toBeLessThanOrEqual(P1);
    // once settled, for 4 windows: no 429, no sliding window sent more than the real limit, and every window was
    // used: not starved. How full the emptiest window is varies from run to run on 2 cores — 17, 20 and 28 of
    // 40 in the CI-style runs of 2026-11-26, 28 alone — for a reason not yet found; a stalled scope gives 0
    expect(p1Observed.filter((c) => c.status === 429)).toEqual([]);
    expect(mostInWindow(p1Observed.map((c) => c.at))).toBeLessThanOrEqual(P1);
    expect(fewestInWindow(p1Observed)).toBeGreaterThanOrEqual(Math.floor(0.25 * P1));
    // with quotaValue: exact
    expect(p2Held).toBe(P2);
  });

  it('the discovered limits survive a flush of the scope keys: workers started anew restore them from Postgres', () => {
    expect(beforeFlush.p1?.source).toBe('discovered');
    expect(beforeFlush.p1?.limit).toBeGreaterThanOrEqual(Math.floor(0.9 * P1));
    expect(beforeFlush.p1?.limit).toBeLessThanOrEqual(P1);
    expect(beforeFlush.p2).toEqual({ limit: P2, source: 'discovered' });
    // the flush took them: the model is unknown to every layer, so the floor shows
    expect(flushed).toBeGreaterThan(0);
    expect(afterFlush.p1?.source).toBe('default');
    // (p2's 429 named its limit: that value is kept as `learned` apart from discovery, in the fleet's store)
    expect(afterFlush.p2?.source).not.toBe('discovered');
    expect(afterFlush.p1?.limit).toBeLessThan(Math.floor(0.9 * P1));
    // restored as they were kept
    expect(restored).toEqual(beforeFlush);
    // p2 restarted from 100, not from the floor: its first window after the restart already sent near 100
    const p2 = calls('p2', phase2Start).map((c) => c.at);
    const first = p2[0] ?? 0;
    expect(p2.filter((t) => t < first + WINDOW_MS).length).toBeGreaterThanOrEqual(Math.floor(0.8 * P2));
  });

  it('a tier raise 100 -> 400 is found within a few windows once the quiet period has passed', () => {
    const p2 = calls('p2', phase2Start, raisedFoundAt + 1_000);
    const first = p2[0]?.at ?? 0;
    const refused = p2.filter((c) => c.status === 429);
    const foundAt = refused[0]?.at ?? Number.POSITIVE_INFINITY;
    const windows = (foundAt - first) / WINDOW_MS;
    const perWindow = Array.from({ length: Math.ceil(windows) }, (_, i) => p2.filter((c) => c.at >= first + i * WINDOW_MS && c.at < first + (i + 1) * WINDOW_MS).length);
    console.warn(`p2: raise to ${P2_RAISED} found ${windows.toFixed(1)} windows after the first call of the new workers, ${refused.length} × 429 until then; calls per window ${perWindow.join(' ')}`);
    expect(p2FinalHeld).toBe(P2_RAISED);
    expect(phase2End.p2).toEqual({ limit: P2_RAISED, source: 'discovered' });
    // slow start from 100 doubles per window used: 200, 400, then the 429 naming 400
    expect(windows).toBeLessThanOrEqual(8);
    // the 429 named the limit: one, plus the calls then in flight (all 16 slots were seen), plus at most a slot's
    // worth more admitted in the moment before every worker read the exact limit
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(refused.length).toBeLessThanOrEqual(1 + 2 * SLOTS);
    // p1 had no demand meanwhile: a limit nobody uses is not probed
    expect(phase2End.p1).toEqual(beforeFlush.p1);
  });
});

/** the fewest successes in a window starting at a call of `observed` and ending within it */
function fewestInWindow(observed: readonly SimCall[]): number {
  const ok = observed.filter((c) => c.status === 200).map((c) => c.at);
  const last = ok[ok.length - 1] ?? 0;
  const starts = ok.filter((t) => t + WINDOW_MS <= last);
  if (!starts.length) return 0;
  return Math.min(...starts.map((t) => ok.filter((x) => x >= t && x < t + WINDOW_MS).length));
}
