import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/adapters/postgres/db.js';
import { refundRpd, reserveRpd, reserveRpdBlock, rpdUsage } from '../../src/adapters/postgres/ledger-repo.js';
import { rpdBlockSize } from '../../src/core/rpd-block.js';
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

describe('RPD ledger in blocks', () => {
  it('grants blocks as core/rpd-block.ts sizes them, one statement each, and 0 once full', async () => {
    const scope = { projectId: 'p', model: 'blocks', day: 'b1', limit: 1234 };
    let used = 0;
    for (;;) {
      const r = await reserveRpdBlock(db, scope);
      expect(r.granted).toBe(rpdBlockSize(1234, used));
      if (r.granted === 0) break;
      used += r.granted;
      expect(r.used).toBe(used);
    }
    expect(used).toBe(1234);
    expect(await reserveRpdBlock(db, scope)).toMatchObject({ granted: 0 });
    expect((await rpdUsage(db, 'b1'))[0]?.used).toBe(1234);
  });

  it('never exceeds the limit: 300 concurrent block reservations from 10 connections on limit 517 grant exactly 517', async () => {
    const scope = { projectId: 'p', model: 'race', day: 'b2', limit: 517 };
    const results = await Promise.all(Array.from({ length: 300 }, () => reserveRpdBlock(db, scope)));
    const granted = results.reduce((n, r) => n + r.granted, 0);
    expect(granted).toBe(517);
    // each grant is what was left when it ran: the running totals are distinct and end at the limit
    const ends = results.filter((r) => r.granted > 0).map((r) => r.used);
    expect(new Set(ends).size).toBe(ends.length);
    expect(Math.max(...ends)).toBe(517);
    expect(await rpdUsage(db, 'b2')).toEqual([{ projectId: 'p', model: 'race', used: 517 }]);
  });

  it('small limits go one request at a time; limit 0 grants nothing and writes no row', async () => {
    const scope = { projectId: 'p', model: 'small', day: 'b3', limit: 3 };
    expect((await Promise.all([1, 2, 3, 4].map(() => reserveRpdBlock(db, scope)))).map((r) => r.granted).sort()).toEqual([0, 1, 1, 1]);
    expect(await reserveRpdBlock(db, { ...scope, model: 'none', limit: 0 })).toEqual({ granted: 0, used: 0 });
    expect((await rpdUsage(db, 'b3')).map((r) => r.model)).toEqual(['small']);
  });

  it('a lowered limit grants nothing more', async () => {
    const scope = { projectId: 'p', model: 'lowered', day: 'b4', limit: 1000 };
    const first = await reserveRpdBlock(db, scope);
    expect(first.granted).toBe(50);
    expect(await reserveRpdBlock(db, { ...scope, limit: 40 })).toMatchObject({ granted: 0 });
    expect((await rpdUsage(db, 'b4'))[0]?.used).toBe(50);
  });
});
