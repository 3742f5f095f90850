import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matchedConfigs } from '../helpers/fleets.js';
import { startAofRedis, type AofRedis } from './helpers/private-redis.js';
import { startRelStack, until, type Outcomes, type RelStack, type ScopeCounts } from './helpers/rel-stack.js';

/**
 * Redis (private, appendonly) stopped with SIGTERM and started again on the
 * same port and dir while workers are busy and RPM windows are full. The
 * stand-in enforces the fleet's own limits, so a single 429 would prove the
 * restart made admission more permissive.
 */
const FLASH = 'gemini-2.5-flash';
const RPM = 20;
const PROJECTS = ['p1', 'p2', 'p3'];
const cfg = matchedConfigs({
  models: [FLASH],
  projects: Object.fromEntries(PROJECTS.map((p) => [p, { [FLASH]: { rpm: RPM, tpm: 10_000_000, rpd: 100_000 } }])),
  tenants: [{ id: 'beta', keyMode: 'central-only' }],
  keys: PROJECTS.map((p) => ({ id: `k-${p}`, tenant: null, project: p })),
  sim: { latencyMs: { min: 50, max: 150 } },
});
// more than one minute's worth: the last third can only go after the windows slide, i.e. after the restart
const MESSAGES = Math.round(RPM * PROJECTS.length * 1.5);

let redis: AofRedis;
let stack: RelStack;
let out: Outcomes;
let settled: { completed: number; failed: number; ms: number };
let completedAtRestart = 0;
let ledger: ScopeCounts;
let upstream: ScopeCounts;
let alive = 0;

beforeAll(async () => {
  redis = await startAofRedis();
  stack = await startRelStack({ name: 'redis-restart', sim: cfg.sim, redisUrl: redis.url });
  await stack.applyFleet(cfg.fleet);
  await stack.startWorker(['--concurrency', '8']);
  await stack.startWorker(['--concurrency', '8']);
  await stack.enqueueAll(Array.from({ length: MESSAGES }, (_, i) => ({ tenantId: 'beta', contents: `redis restart ${i}`, deadlineMs: 600_000 })));
  // every window is full and the rest wait as delayed jobs: now take Redis away
  await until(async () => ((await stack.counts()).completed ?? 0) >= RPM * PROJECTS.length - 5, 60_000, 100);
  completedAtRestart = (await stack.counts()).completed ?? 0;
  await redis.restart(3_000);
  settled = await stack.waitSettled(MESSAGES, 240_000);
  out = await stack.outcomes();
  [ledger] = await Promise.all([stack.ledger()]);
  upstream = stack.upstream();
  alive = stack.workers.filter((w) => w.child.exitCode === null).length;
  console.warn(`[redis-restart] messages=${MESSAGES} completedAtRestart=${completedAtRestart} settled=${JSON.stringify(settled)} byStatus=${JSON.stringify(stack.sim.stats().byStatus)} workersAlive=${alive}`);
}, 420_000);

afterAll(async () => {
  await stack?.stop();
  await redis?.destroy();
});

describe('Redis restarted under load (AOF, same port and dir)', () => {
  it('restarted while jobs were still waiting for capacity', () => {
    expect(completedAtRestart).toBeGreaterThan(0);
    expect(completedAtRestart).toBeLessThan(MESSAGES);
  });

  it('workers reconnect and no job is lost', () => {
    expect(alive).toBe(2);
    expect(settled.completed + settled.failed).toBe(MESSAGES);
    expect(out.failed).toEqual([]);
    expect(new Set(out.completed.map((r) => r.jobId)).size).toBe(MESSAGES);
  });

  it('admission is no more permissive after the restart: zero upstream 429', () => {
    expect(stack.sim.stats().byStatus['429'] ?? 0).toBe(0);
  });

  it('never more than RPM calls per project in any 60 s window (from the stand-in\'s call log)', () => {
    const calls = stack.sim.stats().calls.filter((c) => c.method === 'generateContent');
    for (const p of PROJECTS) {
      const at = calls.filter((c) => c.project === p).map((c) => c.at).sort((a, b) => a - b);
      let worst = 0;
      for (let i = 0, j = 0; i < at.length; i++) {
        while ((at[i] ?? 0) - (at[j] ?? 0) >= 60_000) j++;
        worst = Math.max(worst, i - j + 1);
      }
      expect(worst, p).toBeLessThanOrEqual(RPM);
    }
  });

  it('the RPD ledger equals the stand-in\'s counts', () => {
    expect(ledger).toEqual(upstream);
  });

  it('repeats at most the calls in flight at the restart (answers that could not be stored)', () => {
    const calls = Object.values(upstream).reduce((a, b) => a + b, 0);
    expect(calls).toBeGreaterThanOrEqual(MESSAGES);
    expect(calls - MESSAGES).toBeLessThanOrEqual(16);
  });
});
