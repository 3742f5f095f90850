import { describe, expect, it } from 'vitest';
import { createMemoryLimiter } from '../../src/adapters/memory/limiter.js';
import { createLeaser, FIRST_BATCH } from '../../src/app/leaser.js';
import type { Ledger, Limiter } from '../../src/app/ports.js';
import type { Candidate, CandidateGroup } from '../../src/core/lease-plan.js';
import { fixedLengthDay } from '../../src/core/pacific-day.js';

const cand = (i: number, model: string): Candidate => ({
  keyId: `k${i}`,
  projectId: `p${i}`,
  model,
  central: true,
  scope: `p${i}|${model}`,
  limits: { rpm: 1000, tpm: 1_000_000, rpd: 1000, sources: { rpm: 'configured', tpm: 'configured', rpd: 'configured' } },
});
const ledger: Ledger = {
  reserve: async () => 1,
  reserveBlock: async () => ({ granted: 1, used: 1 }),
  refund: async () => undefined,
  used: async () => new Map(),
};

/** A memory limiter that records how many candidates each admission call carried. */
function counting(): { limiter: Limiter; calls: number[] } {
  const inner = createMemoryLimiter({ clock: Date.now });
  const calls: number[] = [];
  return { calls, limiter: { ...inner, admit: (id, costs, groups, opts) => (calls.push(groups.reduce((n, g) => n + g.candidates.length, 0)), inner.admit(id, costs, groups, opts)) } };
}

describe('leaser admission calls', () => {
  it('a lease costs one small admission call whatever the size of the tier', async () => {
    for (const size of [10, 100, 5000]) {
      const { limiter, calls } = counting();
      const leaser = createLeaser({ limiter, ledger, day: fixedLengthDay(86_400_000) });
      const groups: CandidateGroup[] = [
        { id: `a${size}`, model: 'm1', central: true, priority: 1, candidates: Array.from({ length: size }, (_, i) => cand(i, 'm1')) },
        { id: `b${size}`, model: 'm2', central: true, priority: 1, candidates: Array.from({ length: size }, (_, i) => cand(i, 'm2')) },
      ];
      for (let i = 0; i < 20; i++) expect((await leaser.acquire(groups, 10, `r${size}-${i}`)).kind).toBe('lease');
      expect(calls).toHaveLength(20);
      expect(Math.max(...calls)).toBeLessThanOrEqual(Math.max(FIRST_BATCH, 2 * Math.min(size, FIRST_BATCH)));
    }
  });

  it('still finds the one scope with room in a large tier, and keeps group order', async () => {
    const { limiter } = counting();
    const leaser = createLeaser({ limiter, ledger, day: fixedLengthDay(86_400_000) });
    const big = Array.from({ length: 500 }, (_, i) => cand(i, 'm1'));
    for (const c of big) await limiter.block(c.scope, 'cool', 60_000, 'test');
    const free = big[321];
    if (!free) throw new Error('setup');
    await limiter.clearBlock(free.scope, 'cool');
    const groups: CandidateGroup[] = [
      { id: 'big', model: 'm1', central: true, priority: 1, candidates: big },
      { id: 'next', model: 'm2', central: true, priority: 1, candidates: [cand(0, 'm2')] },
    ];
    const r = await leaser.acquire(groups, 10, 'find');
    expect(r.kind === 'lease' && r.lease.candidate.scope).toBe(free.scope);
  });

  it('the first call carries the first group alone; the fallback group follows only when it is full', async () => {
    const { limiter, calls } = counting();
    const leaser = createLeaser({ limiter, ledger, day: fixedLengthDay(86_400_000) });
    const first = [cand(1, 'm1'), cand(2, 'm1'), cand(3, 'm1')];
    const groups: CandidateGroup[] = [
      { id: 'pro', model: 'm1', central: true, priority: 1, candidates: first },
      { id: 'flash', model: 'm2', central: true, priority: 1, candidates: [cand(1, 'm2'), cand(2, 'm2')] },
    ];
    const r1 = await leaser.acquire(groups, 10, 'one');
    expect(r1.kind === 'lease' && r1.lease.candidate.model).toBe('m1');
    expect(calls).toEqual([3]);
    for (const c of first) await limiter.block(c.scope, 'cool', 60_000, 'test');
    const r2 = await leaser.acquire(groups, 10, 'two');
    expect(r2.kind === 'lease' && r2.lease.candidate.model).toBe('m2');
    expect(calls).toEqual([3, 3, 2]);
  });
});
