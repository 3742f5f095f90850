import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/adapters/postgres/db.js';
import { refundRpd, reserveRpd, rpdUsage } from '../../src/adapters/postgres/ledger-repo.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';

let t: TestDatabase;
let db: Database;
beforeAll(async () => {
  t = await createTestDatabase({ max: 10 });
  db = t.handle.db;
});
afterAll(async () => {
  await t.drop();
});

describe('RPD ledger', () => {
  it('never exceeds the limit: 200 concurrent reservations from 10 connections on limit 37', async () => {
    const scope = { projectId: 'p', model: 'm', day: '2025-01-01', limit: 37 };
    const results = await Promise.all(Array.from({ length: 200 }, () => reserveRpd(db, scope)));
    const granted = results.filter((r): r is number => r !== null);
    expect(granted).toHaveLength(37);
    expect(new Set(granted).size).toBe(37);
    expect(Math.max(...granted)).toBe(37);
    expect(await rpdUsage(db, '2025-01-01')).toEqual([{ projectId: 'p', model: 'm', used: 37 }]);
  });

  it('counts from 1 and returns null when full', async () => {
    const scope = { projectId: 'p', model: 'm2', day: 'd1', limit: 2 };
    expect(await reserveRpd(db, scope)).toBe(1);
    expect(await reserveRpd(db, scope)).toBe(2);
    expect(await reserveRpd(db, scope)).toBeNull();
    expect(await reserveRpd(db, { ...scope, day: 'd2' })).toBe(1);
  });

  it('limit 0 (or less) reserves nothing and writes no row', async () => {
    expect(await reserveRpd(db, { projectId: 'p', model: 'zero', day: 'd1', limit: 0 })).toBeNull();
    expect(await reserveRpd(db, { projectId: 'p', model: 'zero', day: 'd1', limit: -3 })).toBeNull();
    expect((await rpdUsage(db, 'd1')).map((r) => r.model)).not.toContain('zero');
  });

  it('refunds never go below zero and free a slot', async () => {
    const scope = { projectId: 'p', model: 'r', day: 'd3' };
    await refundRpd(db, scope); // no row: a no-op
    expect(await reserveRpd(db, { ...scope, limit: 1 })).toBe(1);
    expect(await reserveRpd(db, { ...scope, limit: 1 })).toBeNull();
    await refundRpd(db, scope);
    await refundRpd(db, scope);
    await refundRpd(db, scope);
    expect((await rpdUsage(db, 'd3'))[0]?.used).toBe(0);
    expect(await reserveRpd(db, { ...scope, limit: 1 })).toBe(1);
  });
});
