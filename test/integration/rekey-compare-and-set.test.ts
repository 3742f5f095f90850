import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKeyring, decryptSecret, keyIdOf, storedFormat } from '../../src/adapters/crypto/secret-box.js';
import type { Database } from '../../src/adapters/postgres/db.js';
import { applyFleet, loadKeySecrets } from '../../src/adapters/postgres/fleet-repo.js';
import { planPage, readSecretPage, rekeySecrets, writeIfUnchanged } from '../../src/adapters/postgres/rekey-repo.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { rekeyFleet, storedValues } from '../helpers/rekey.js';

const keyA = randomBytes(32);
const keyB = randomBytes(32);
const ringB = createKeyring(keyB, [keyA]);
const N = 5;
const secretOf = (i: number): string => `cas-secret-${i}`;

let t: TestDatabase;
let db: Database;

beforeAll(async () => {
  t = await createTestDatabase();
  db = t.handle.db;
  await applyFleet(db, rekeyFleet(N, secretOf), { secretKey: keyA, resolveEnv: () => undefined, prune: false });
});
afterAll(async () => {
  await t?.drop();
});

describe('rekey writes by compare-and-set', () => {
  it('leaves a key an apply changed between the read and the write, and rewrites the others', async () => {
    const rows = await readSecretPage(db, null, 100);
    const plan = planPage(ringB, rows);
    expect(plan.rewrites.map((w) => w.id)).toEqual(['k-0', 'k-1', 'k-2', 'k-3', 'k-4']);
    // meanwhile a process on the new configuration applies a new secret for k-2
    const rotated = (i: number): string => (i === 2 ? 'cas-secret-2-rotated' : secretOf(i));
    const applied = await applyFleet(db, rekeyFleet(N, rotated), { secretKey: keyB, keyring: ringB, resolveEnv: () => undefined, prune: false });
    expect(applied.keys.updated).toBe(1);
    const appliedValue = (await storedValues(db)).get('k-2');

    const lost = await writeIfUnchanged(db, plan.rewrites);

    expect(lost).toEqual(['k-2']);
    const after = await storedValues(db);
    expect(after.get('k-2')).toBe(appliedValue);
    expect(decryptSecret(ringB, after.get('k-2') ?? '', 'k-2')).toBe('cas-secret-2-rotated');
    for (const i of [0, 1, 3, 4]) expect(after.get(`k-${i}`)).toBe(plan.rewrites[i]?.to);
  });

  it('a full run then finds the applied value current and rewrites nothing it did not read', async () => {
    const report = await rekeySecrets(db, ringB, { dryRun: false, batch: 2 });
    expect(report).toMatchObject({ total: N, rekeyed: 0, current: N, failed: [], skipped: [] });
    for (const value of (await storedValues(db)).values()) expect(storedFormat(value)).toEqual({ version: 'v2', keyId: keyIdOf(keyB) });
    const secrets = await loadKeySecrets(db, createKeyring(keyB));
    expect(secrets.get('k-2')).toBe('cas-secret-2-rotated');
    expect(secrets.get('k-4')).toBe(secretOf(4));
  });

  it('reports progress after each batch', async () => {
    const seen: Array<{ done: number; total: number }> = [];
    await rekeySecrets(db, ringB, { dryRun: true, batch: 2, onProgress: (p) => seen.push(p) });
    expect(seen).toEqual([
      { done: 2, total: N },
      { done: 4, total: N },
      { done: 5, total: N },
    ]);
  });
});
