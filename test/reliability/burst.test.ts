import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matchedConfigs, type KeyDef } from '../helpers/fleets.js';
import { dumpRedis } from '../helpers/stack.js';
import { startAofRedis, type AofRedis } from './helpers/private-redis.js';
import { attemptsByScope, startRelStack, total, type Outcomes, type RelStack, type ScopeCounts } from './helpers/rel-stack.js';

/**
 * A burst across 50 tenants, 100 keys and 3 worker processes: every message
 * ends completed or failed with a reason, and the three records of usage
 * (job results, rpd_ledger, the stand-in's counts) agree exactly.
 * RELIABILITY_FULL=1: 10,000 messages; otherwise 2,000.
 */
const FULL = process.env.RELIABILITY_FULL === '1';
const MESSAGES = Number(process.env.RELIABILITY_BURST_MESSAGES ?? (FULL ? 10_000 : 2_000));
const PRO = 'gemini-2.5-pro';
const FLASH = 'gemini-2.5-flash';
// PRO's day fills on the own projects during the run: jobs move down to FLASH
const LIMITS = { [PRO]: { rpm: 2_000, tpm: 50_000_000, rpd: Math.ceil(MESSAGES / 200) }, [FLASH]: { rpm: 2_000, tpm: 50_000_000, rpd: 100_000 } };
const CENTRAL = { [PRO]: { rpm: 2_000, tpm: 50_000_000, rpd: 100_000 }, [FLASH]: { rpm: 2_000, tpm: 50_000_000, rpd: 100_000 } };

// 40 tenants with 2 own keys each (one project per tenant), 20 central keys in 10 projects = 100 keys;
// tenants t40-t47 central-only, t48 own-only without keys (its messages fail: no_keys), t49 own-then-central without keys
const TENANTS = Array.from({ length: 50 }, (_, i) => `t${String(i).padStart(2, '0')}`);
const KEYS: KeyDef[] = [
  ...TENANTS.slice(0, 40).flatMap((t) => [1, 2].map((n) => ({ id: `${t}-k${n}`, tenant: t, project: `p-${t}` }))),
  ...Array.from({ length: 20 }, (_, i) => ({ id: `central-${i}`, tenant: null, project: `p-central-${i % 10}` })),
];
const keyMode = (i: number): string => (i < 40 ? (i % 4 === 0 ? 'own-only' : 'own-then-central') : i < 48 ? 'central-only' : i === 48 ? 'own-only' : 'own-then-central');
const projects: Record<string, typeof LIMITS> = Object.fromEntries([...new Set(KEYS.map((k) => k.project))].map((p) => [p, p.startsWith('p-central') ? CENTRAL : LIMITS]));
const cfg = matchedConfigs({
  models: [PRO, FLASH],
  projects,
  tenants: TENANTS.map((id, i) => ({ id, keyMode: keyMode(i) })),
  keys: KEYS,
  sim: { latencyMs: { min: 5, max: 30 }, maxCallLog: 1_000 },
});

let redis: AofRedis;
let stack: RelStack;
let out: Outcomes;
let settled: { completed: number; failed: number; ms: number };
let enqueueMs = 0;
let ledger: ScopeCounts;
let upstream: ScopeCounts;

beforeAll(async () => {
  redis = await startAofRedis();
  stack = await startRelStack({ name: 'burst', sim: cfg.sim, redisUrl: redis.url});
  await stack.applyFleet(cfg.fleet);
  await Promise.all([0, 1, 2].map(() => stack.startWorker(['--concurrency', '16'])));
  const t0 = Date.now();
  await stack.enqueueAll(Array.from({ length: MESSAGES }, (_, i) => ({ tenantId: TENANTS[i % TENANTS.length] ?? 't00', contents: `burst ${i}`, deadlineMs: 1_800_000 })), 200);
  enqueueMs = Date.now() - t0;
  settled = await stack.waitSettled(MESSAGES, FULL ? 1_200_000 : 600_000);
  out = await stack.outcomes();
  ledger = await stack.ledger();
  upstream = stack.upstream();
  const reasons: Record<string, number> = {};
  for (const f of out.failed) reasons[f.reason] = (reasons[f.reason] ?? 0) + 1;
  console.warn(
    `[burst] messages=${MESSAGES} enqueueMs=${enqueueMs} settled=${JSON.stringify(settled)} failedReasons=${JSON.stringify(reasons)} ` +
      `upstream=${total(upstream)} ledger=${total(ledger)} attempts=${total(attemptsByScope(out))} byStatus=${JSON.stringify(stack.sim.stats().byStatus)}`,
  );
}, 1_500_000);

afterAll(async () => {
  await stack?.stop();
  await redis?.destroy();
});

describe(`burst of ${MESSAGES} messages, 50 tenants, 100 keys, 3 workers`, () => {
  it('every message ends completed or failed with a reason; none lost, none left', async () => {
    expect(settled.completed + settled.failed).toBe(MESSAGES);
    expect(out.completed.length + out.failed.length).toBe(MESSAGES);
    expect(new Set([...out.completed.map((r) => r.jobId), ...out.failed.map((f) => f.jobId)]).size).toBe(MESSAGES);
    const c = await stack.counts();
    expect((c.active ?? 0) + (c.waiting ?? 0) + (c.delayed ?? 0) + (c.prioritized ?? 0)).toBe(0);
  });

  it('the only failures are the keyless own-only tenant\'s, each with reason no_keys', () => {
    const perTenant = Math.floor(MESSAGES / TENANTS.length) + (48 < MESSAGES % TENANTS.length ? 1 : 0);
    expect(out.failed).toHaveLength(perTenant);
    for (const f of out.failed) {
      expect(f.reason).toBe('no_keys');
      expect(f.message.length).toBeGreaterThan(0);
    }
  });

  it('results, the RPD ledger and the stand-in agree exactly per (project, model)', () => {
    expect(stack.sim.stats().byStatus['429'] ?? 0).toBe(0);
    expect(attemptsByScope(out)).toEqual(upstream);
    expect(ledger).toEqual(upstream);
    expect(total(upstream)).toBe(out.completed.length);
  });

  it('PRO filled its day on own projects and jobs moved down to FLASH', () => {
    expect(out.completed.some((r) => r.model === FLASH)).toBe(true);
    expect(out.completed.some((r) => r.model === PRO)).toBe(true);
  });

  it('no log line, Redis key or value and no job record contains a key\'s secret', async () => {
    const dump = await dumpRedis(stack.redis, stack.prefix);
    const logs = stack.logs();
    const records = JSON.stringify(out);
    for (const k of KEYS) {
      const s = cfg.secretOf(k.id);
      expect(dump.includes(s), `redis holds ${k.id}'s secret`).toBe(false);
      expect(logs.includes(s), `logs hold ${k.id}'s secret`).toBe(false);
      expect(records.includes(s), `job records hold ${k.id}'s secret`).toBe(false);
    }
    expect(dump.length).toBeGreaterThan(MESSAGES);
  });
});
