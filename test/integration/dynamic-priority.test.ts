import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFleet, fleetVersion, loadFleet } from '../../src/adapters/postgres/fleet-repo.js';
import { keyOutcomeBuckets, loadDemotions, saveDemotions } from '../../src/adapters/postgres/key-health-repo.js';
import { recordUsage } from '../../src/adapters/postgres/usage-repo.js';
import type { UsageEvent } from '../../src/app/ports.js';
import { evaluateKeyPriorities } from '../../src/app/dynamic-priority.js';
import { parseFleet } from '../../src/core/fleet-file.js';
import { createTestDatabase } from '../helpers/postgres.js';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
const event = (keyId: string, outcome: string, at = new Date()): UsageEvent => ({
  at, jobId: 'j', tenantId: 't', keyId, projectId: 'p', model: 'm', outcome, status: null, promptTokens: 1, candidatesTokens: 1, totalTokens: 2, thoughtsTokens: 0, cachedTokens: 0, latencyMs: 1, central: false, day: '2026-01-01', costPico: 0n,
});

beforeAll(async () => {
  db = await createTestDatabase();
  await applyFleet(
    db.handle.db,
    parseFleet({ models: ['m'], projects: [{ id: 'p' }], tenants: [{ id: 't' }], keys: [{ id: 'good', tenant: 't', project: 'p', secret: 's-good' }, { id: 'bad', tenant: 't', project: 'p', secret: 's-bad' }] }),
    { secretKey: Buffer.alloc(32, 7), resolveEnv: () => undefined, prune: false },
  );
});
afterAll(async () => {
  await db?.drop();
});

describe('dynamic priority on real Postgres', () => {
  it('demotes a failing key, bumps the fleet version, and restores it once it recovers', async () => {
    const d = db.handle.db;
    await recordUsage(d, [...Array.from({ length: 20 }, () => event('good', 'success')), ...Array.from({ length: 12 }, () => event('bad', 'overloaded')), ...Array.from({ length: 8 }, () => event('bad', 'success'))]);
    expect((await keyOutcomeBuckets(d, new Date(Date.now() - 3_600_000))).filter((b) => b.keyId === 'bad').reduce((n, b) => n + b.count, 0)).toBe(20);
    const v0 = await fleetVersion(d);
    let announced = 0;
    const deps = {
      buckets: (since: Date) => keyOutcomeBuckets(d, since),
      demoted: () => loadDemotions(d),
      save: (ids: string[]) => saveDemotions(d, ids),
      announce: async () => void announced++,
      clock: Date.now,
      logger: pino({ level: 'silent' }),
    };
    expect(await evaluateKeyPriorities(deps)).toEqual({ demoted: ['bad'], restored: [] });
    expect((await loadFleet(d)).demoted).toEqual(['bad']);
    expect(Number(await fleetVersion(d))).toBe(Number(v0) + 1);
    expect(announced).toBe(1);
    // nothing new: no change, no announcement
    expect(await evaluateKeyPriorities(deps)).toEqual({ demoted: [], restored: [] });
    expect(announced).toBe(1);
    await recordUsage(d, Array.from({ length: 400 }, () => event('bad', 'success')));
    expect(await evaluateKeyPriorities(deps)).toEqual({ demoted: [], restored: ['bad'] });
    expect((await loadFleet(d)).demoted).toEqual([]);
  });
});
