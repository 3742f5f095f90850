import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matchedConfigs } from '../helpers/fleets.js';
import { startAofRedis, type AofRedis } from './helpers/private-redis.js';
import { startPrivatePostgres, type PrivatePostgres } from './helpers/private-postgres.js';
import { startRelStack, total, until, type Outcomes, type RelStack, type ScopeCounts } from './helpers/rel-stack.js';

/**
 * A private Postgres cluster restarted (fast stop, 3 s down, start) while
 * workers are leasing: leases go on from the RPD pools in Redis, a lease
 * that needs a new block from the ledger fails, its job waits and resumes;
 * none fails within its deadline (the default, 120 s).
 */
const PRO = 'gemini-2.5-pro';
const FLASH = 'gemini-2.5-flash';
const LIMITS = { [PRO]: { rpm: 1000, tpm: 10_000_000, rpd: 100_000 }, [FLASH]: { rpm: 1000, tpm: 10_000_000, rpd: 100_000 } };
const cfg = matchedConfigs({
  models: [PRO, FLASH],
  projects: { pa: LIMITS, pc1: LIMITS, pc2: LIMITS },
  tenants: [{ id: 'alpha', keyMode: 'own-then-central' }, { id: 'beta', keyMode: 'central-only' }],
  keys: [
    { id: 'a1', tenant: 'alpha', project: 'pa' },
    { id: 'c1', tenant: null, project: 'pc1' },
    { id: 'c2', tenant: null, project: 'pc2' },
  ],
  sim: { latencyMs: { min: 100, max: 200 } },
});
const MESSAGES = 400;

let redis: AofRedis;
let pg: PrivatePostgres;
let stack: RelStack;
let out: Outcomes;
let settled: { completed: number; failed: number; ms: number };
let completedAtRestart = 0;
let completedAfterRestart = 0;
let ledger: ScopeCounts;
let upstream: ScopeCounts;
let alive = 0;

beforeAll(async () => {
  [redis, pg] = await Promise.all([startAofRedis(), startPrivatePostgres()]);
  stack = await startRelStack({ name: 'pg-restart', sim: cfg.sim, redisUrl: redis.url, databaseUrl: pg.url });
  await stack.applyFleet(cfg.fleet);
  await stack.startWorker(['--concurrency', '8']);
  await stack.startWorker(['--concurrency', '8']);
  await stack.enqueueAll(Array.from({ length: MESSAGES }, (_, i) => ({ tenantId: i % 2 ? 'alpha' : 'beta', contents: `pg restart ${i}` })));
  await until(async () => ((await stack.counts()).completed ?? 0) >= 60, 60_000, 50);
  completedAtRestart = (await stack.counts()).completed ?? 0;
  await pg.restart(3_000);
  completedAfterRestart = (await stack.counts()).completed ?? 0;
  settled = await stack.waitSettled(MESSAGES, 240_000);
  out = await stack.outcomes();
  ledger = await stack.ledger();
  upstream = stack.upstream();
  alive = stack.workers.filter((w) => w.child.exitCode === null).length;
  console.warn(
    `[pg-restart] messages=${MESSAGES} completedAtRestart=${completedAtRestart} settled=${JSON.stringify(settled)} failed=${JSON.stringify(out.failed.slice(0, 3))} ` +
      `upstream=${total(upstream)} ledger=${total(ledger)} workersAlive=${alive}`,
  );
}, 420_000);

afterAll(async () => {
  await stack?.stop();
  await Promise.all([redis?.destroy(), pg?.destroy()]);
});

describe('Postgres restarted under load (private cluster)', () => {
  it('restarted while messages were still queued', () => {
    expect(completedAtRestart).toBeGreaterThan(0);
    expect(completedAtRestart).toBeLessThan(MESSAGES);
  });

  it('workers survive and every message completes within its deadline', () => {
    expect(alive).toBe(2);
    expect(out.failed.map((f) => `${f.reason}: ${f.message}`)).toEqual([]);
    expect(out.completed).toHaveLength(MESSAGES);
  });

  it('leases went on from the RPD pools while Postgres was down, or waited for it and retried', () => {
    // the pools held requests reserved before the stop: jobs completed across the outage without the ledger
    const served = completedAfterRestart > completedAtRestart;
    const waited = stack.logs().includes('a dependency failed during the job; it will retry');
    expect(served || waited).toBe(true);
  });

  it('zero upstream 429, and the ledger counts every upstream call (a lease whose answer was lost with the connection may count once more)', () => {
    expect(stack.sim.stats().byStatus['429'] ?? 0).toBe(0);
    for (const k of new Set([...Object.keys(ledger), ...Object.keys(upstream)])) expect(ledger[k] ?? 0, k).toBeGreaterThanOrEqual(upstream[k] ?? 0);
    expect(total(ledger) - total(upstream)).toBeLessThanOrEqual(16);
  });
});
