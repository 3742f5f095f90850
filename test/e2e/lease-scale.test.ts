import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GenerationResult } from '../../src/adapters/queue/job-contract.js';
import { matchedConfigs, type KeyDef } from '../helpers/fleets.js';
import { rpdCounts } from '../helpers/rpd-spent.js';
import { startStack, type Stack } from '../helpers/stack.js';

const PRO = 'gemini-2.5-pro';
const FLASH = 'gemini-2.5-flash';
const LITE = 'gemini-2.5-flash-lite';
const CHAIN = [PRO, FLASH, LITE];
// RPD binds for the top models, so "had room" is exact whatever the test's duration
const LIMITS: Record<string, { rpm: number; tpm: number; rpd: number }> = {
  [PRO]: { rpm: 1000, tpm: 10_000_000, rpd: 10 },
  [FLASH]: { rpm: 1000, tpm: 10_000_000, rpd: 20 },
  [LITE]: { rpm: 300, tpm: 10_000_000, rpd: 1000 },
};
const KEYS: KeyDef[] = [
  { id: 'a1', tenant: 'alpha', project: 'pa' },
  { id: 'a2', tenant: 'alpha', project: 'pa' },
  { id: 'b1', tenant: 'beta', project: 'pb' },
  { id: 'b2', tenant: 'beta', project: 'pb2' },
  { id: 'g1', tenant: 'gamma', project: 'pg' },
  { id: 'c1', tenant: null, project: 'pc1' },
  { id: 'c2', tenant: null, project: 'pc2' },
  { id: 'c3', tenant: null, project: 'pc2' },
];
const cfg = matchedConfigs({
  models: CHAIN,
  projects: Object.fromEntries([...new Set(KEYS.map((k) => k.project))].map((p) => [p, LIMITS])),
  tenants: [
    { id: 'alpha', keyMode: 'own-then-central' },
    { id: 'beta', keyMode: 'own-only' },
    { id: 'gamma', keyMode: 'own-then-central' },
    { id: 'delta', keyMode: 'central-only' },
  ],
  keys: KEYS,
});
const TENANTS = ['alpha', 'beta', 'gamma', 'delta'];
const MESSAGES = Number(process.env.SCALE_MESSAGES ?? 500);

let stack: Stack;
let results: GenerationResult[] = [];
let failed = 0;

beforeAll(async () => {
  stack = await startStack({ name: 'scale', sim: cfg.sim });
  await stack.applyFleet(cfg.fleet);
  await Promise.all([0, 1, 2, 3].map(() => stack.startWorker(['--concurrency', '8'])));
  const settled = await Promise.allSettled(
    Array.from({ length: MESSAGES }, (_, i) => stack.client.generate({ tenantId: TENANTS[i % TENANTS.length] ?? 'alpha', contents: `scale message ${i}` }, { timeoutMs: 120_000 })),
  );
  results = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  failed = settled.length - results.length;
}, 180_000);
afterAll(async () => {
  await stack?.stop();
});

describe('lease engine at scale: 4 worker processes, 500 messages, limits equal to the stand-in\'s', () => {
  it('answers every message with zero upstream 429', () => {
    expect(failed).toBe(0);
    expect(results).toHaveLength(MESSAGES);
    expect(new Set(results.map((r) => r.jobId)).size).toBe(MESSAGES);
    const st = stack.sim.stats();
    expect(st.byStatus['429'] ?? 0).toBe(0);
    expect(st.totalCalls).toBe(MESSAGES);
  });

  it('RPD spent (the ledger\'s reserved blocks minus what the pools hold) equals the stand-in\'s per-scope counts, and nothing is reserved past a limit', async () => {
    const sql = postgres(stack.env.DATABASE_URL ?? '', { max: 1, onnotice: () => undefined });
    try {
      const { spent, reserved } = await rpdCounts(sql, stack.redis, stack.prefix);
      const upstream = Object.fromEntries(stack.sim.stats().totals.filter((t) => t.requests > 0).map((t) => [`${t.project}|${t.model}`, t.requests]));
      expect(spent).toEqual(upstream);
      for (const [k, n] of Object.entries(reserved)) expect(n, k).toBeLessThanOrEqual(LIMITS[k.split('|')[1] ?? '']?.rpd ?? 0);
    } finally {
      await sql.end();
    }
  });

  it('never called a lower model while a higher model had a key with room (from the stand-in\'s record)', () => {
    const totals = new Map(stack.sim.stats().totals.map((t) => [`${t.project}|${t.model}`, t.requests]));
    const full = (project: string, model: string): boolean => (totals.get(`${project}|${model}`) ?? 0) >= (LIMITS[model]?.rpd ?? 0);
    const keyOf = new Map(KEYS.map((k) => [k.id, k]));
    let checked = 0;
    for (const call of stack.sim.stats().calls) {
      const key = keyOf.get(call.keyLabel);
      const rank = CHAIN.indexOf(call.model ?? '');
      if (!key || rank <= 0) continue;
      // the keys that could have served this call: the same tenant's own keys, or the central keys
      const peers = KEYS.filter((k) => k.tenant === key.tenant);
      for (const higher of CHAIN.slice(0, rank)) {
        for (const p of peers) expect(full(p.project, higher), `${call.model} via ${key.id} while ${higher}@${p.project} had room`).toBe(true);
      }
      checked++;
    }
    expect(checked).toBeGreaterThan(100);
  });

  it('spreads load across keys of a tier instead of draining one', () => {
    const byKey = (id: string): number => results.filter((r) => r.keyId === id).length;
    // c2 and c3 share project pc2: round robin serves both
    expect(byKey('c2')).toBeGreaterThan(0);
    expect(byKey('c3')).toBeGreaterThan(0);
    expect(Math.abs(byKey('c2') - byKey('c3'))).toBeLessThanOrEqual(Math.max(3, 0.2 * (byKey('c2') + byKey('c3'))));
  });
});
