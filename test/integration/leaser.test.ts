import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresStores } from '../../src/adapters/postgres/stores.js';
import { createRedisLimiter } from '../../src/adapters/redis/limiter.js';
import type { Limiter } from '../../src/app/ports.js';
import { createLeaser, TIER_CHUNK, type Leaser } from '../../src/app/leaser.js';
import type { Candidate, CandidateGroup } from '../../src/core/lease-plan.js';
import { pacificDay } from '../../src/core/pacific-day.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { TEST_REDIS_URL, dropPrefix, testPrefix } from '../helpers/redis.js';

const prefix = testPrefix('leaser');
let redis: Redis;
let limiter: Limiter;
let leaser: Leaser;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let n = 0;

const cand = (projectId: string, model: string, limits = { rpm: 100, tpm: 1_000_000, rpd: 1000 }): Candidate => ({
  keyId: `k-${projectId}`,
  projectId,
  model,
  central: true,
  scope: `${projectId}|${model}`,
  limits: { ...limits, sources: { rpm: 'configured', tpm: 'configured', rpd: 'configured' } },
});
const group = (model: string, candidates: Candidate[]): CandidateGroup => ({ id: `g-${model}-${n++}`, model, central: true, priority: 1, candidates });

beforeAll(async () => {
  db = await createTestDatabase();
  redis = new Redis(TEST_REDIS_URL);
  limiter = createRedisLimiter(redis, prefix);
  leaser = createLeaser({ limiter, ledger: createPostgresStores(db.handle.db, { secretKey: undefined }).ledger, day: pacificDay });
});
afterAll(async () => {
  await dropPrefix(prefix);
  redis.disconnect();
  await db?.drop();
});

describe('leaser on real Redis and Postgres', () => {
  it('in a tier far larger than one admission call, finds the single scope with room', async () => {
    const model = `big-${n++}`;
    const cands = Array.from({ length: 5 * TIER_CHUNK }, (_, i) => cand(`p${i}`, model));
    for (const c of cands) await limiter.block(c.scope, 'cool', 60_000, 'test');
    const free = cands[137];
    if (!free) throw new Error('setup');
    await limiter.clearBlock(free.scope, 'cool');
    const g = group(model, cands);
    for (let i = 0; i < 4; i++) {
      const r = await leaser.acquire([g], 10, `res-big-${i}`);
      expect(r.kind === 'lease' && r.lease.candidate.scope).toBe(free.scope);
    }
  });

  it('keeps group order across batches: a later group only when every chunk of the earlier one is full', async () => {
    const model = `order-${n++}`;
    const first = group(model, Array.from({ length: 3 * TIER_CHUNK }, (_, i) => cand(`a${i}-${n}`, model, { rpm: 1, tpm: 1_000_000, rpd: 1000 })));
    const second = group(`${model}-next`, [cand(`b-${n}`, `${model}-next`)]);
    const seen = new Set<string>();
    for (let i = 0; i < 3 * TIER_CHUNK; i++) {
      const r = await leaser.acquire([first, second], 1, `res-order-${i}`);
      if (r.kind !== 'lease') throw new Error('expected a lease');
      seen.add(r.lease.candidate.scope);
    }
    expect(seen.size).toBe(3 * TIER_CHUNK);
    const after = await leaser.acquire([first, second], 1, 'res-order-last');
    expect(after.kind === 'lease' && after.lease.candidate.model).toBe(`${model}-next`);
  });

  it('when the day is full in Postgres, returns the Redis reservation, blocks the scope for the day and moves on', async () => {
    const model = `rpd-${n++}`;
    const tight = cand(`tight-${n}`, model, { rpm: 100, tpm: 1_000_000, rpd: 1 });
    const spare = cand(`spare-${n}`, model);
    const g = group(model, [tight]);
    const g2 = group(`${model}`, [spare]);
    const a = await leaser.acquire([g, g2], 5, 'res-rpd-1');
    expect(a.kind === 'lease' && a.lease.candidate.scope).toBe(tight.scope);
    const b = await leaser.acquire([g, g2], 5, 'res-rpd-2');
    expect(b.kind === 'lease' && b.lease.candidate.scope).toBe(spare.scope);
    expect(await limiter.usage(tight.scope)).toEqual({ rpm: 1, tpm: 5 });
    const blocks = await limiter.blocks(tight.scope);
    expect(blocks.dayMs).toBeGreaterThan(0);
  });

  it('cancel returns RPM, TPM and the day\'s request', async () => {
    const model = `cancel-${n++}`;
    const c = cand(`c-${n}`, model, { rpm: 1, tpm: 1_000_000, rpd: 1 });
    const r = await leaser.acquire([group(model, [c])], 7, 'res-cancel');
    if (r.kind !== 'lease') throw new Error('expected a lease');
    await leaser.cancel(r.lease);
    expect(await limiter.usage(c.scope)).toEqual({ rpm: 0, tpm: 0 });
    const again = await leaser.acquire([group(model, [c])], 7, 'res-cancel-2');
    expect(again.kind).toBe('lease');
  });
});
