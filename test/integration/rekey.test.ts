import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createKeyring, encryptSecret, keyIdOf, storedFormat } from '../../src/adapters/crypto/secret-box.js';
import type { Database } from '../../src/adapters/postgres/db.js';
import { applyFleet, fleetVersion, loadKeySecrets } from '../../src/adapters/postgres/fleet-repo.js';
import { spawnCli, type CliProcess } from '../helpers/cli-process.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { dropPrefix, testPrefix } from '../helpers/redis.js';
import { rekeyFleet, storedValues, storeValue, v1Value } from '../helpers/rekey.js';

const N = 7;
const keyA = randomBytes(32);
const keyB = randomBytes(32);
const stranger = randomBytes(32);
const secretOf = (i: number): string => `rk-secret-${i}-plaintext`;
const SECRETS = Array.from({ length: N }, (_, i) => secretOf(i));
const prefix = testPrefix('rekey');

const reportSchema = z.strictObject({
  dryRun: z.boolean(),
  keyId: z.string(),
  total: z.number(),
  rekeyed: z.number(),
  current: z.number(),
  failed: z.array(z.strictObject({ id: z.string(), storedUnder: z.string() })),
  skipped: z.array(z.string()),
});

let t: TestDatabase;
let db: Database;
const running = new Set<CliProcess>();

beforeAll(async () => {
  t = await createTestDatabase();
  db = t.handle.db;
  // the fleet as an older version stored it under key A: one value still in the v1 format
  await applyFleet(db, rekeyFleet(N, secretOf), { secretKey: keyA, resolveEnv: () => undefined, prune: false });
  await storeValue(db, 'k-0', v1Value(keyA, secretOf(0)));
});
afterEach(() => {
  // a process a failed test left running is stopped by its pid
  for (const p of running) if (p.child.exitCode === null && p.child.pid !== undefined) process.kill(p.child.pid, 'SIGKILL');
  running.clear();
});
afterAll(async () => {
  await t?.drop();
  await dropPrefix(prefix);
});

/** `quotaflow rekey <args>` under QUOTAFLOW_SECRET=current, QUOTAFLOW_SECRET_PREVIOUS=previous. */
async function rekey(args: string[], current: Buffer, previous: Buffer[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = spawnCli(['rekey', ...args], {
    DATABASE_URL: t.url,
    QUOTAFLOW_PREFIX: prefix,
    QUOTAFLOW_SECRET: current.toString('hex'),
    QUOTAFLOW_SECRET_PREVIOUS: previous.map((k) => k.toString('hex')).join(','),
    LOG_LEVEL: 'info',
  });
  running.add(p);
  const code = await p.exited;
  running.delete(p);
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

/** No secret and no key, in any encoding, anywhere in a command's output. */
function expectNoSecrets(output: string): void {
  for (const s of SECRETS) expect(output).not.toContain(s);
  for (const k of [keyA, keyB, stranger]) {
    for (const enc of ['hex', 'base64', 'base64url'] as const) expect(output).not.toContain(k.toString(enc));
  }
}

describe('quotaflow rekey', () => {
  it('--dry-run counts what it would re-encrypt and writes nothing', async () => {
    const before = await storedValues(db);
    const r = await rekey(['--dry-run', '--json'], keyB, [keyA]);
    expect(r.code, r.stderr).toBe(0);
    expect(reportSchema.parse(JSON.parse(r.stdout))).toEqual({ dryRun: true, keyId: keyIdOf(keyB), total: N, rekeyed: N, current: 0, failed: [], skipped: [] });
    expect(await storedValues(db)).toEqual(before);
    expectNoSecrets(r.stdout + r.stderr);
  });

  it('re-encrypts every value (v1 and under A) under B in batches, keeps the fleet version, and the fleet then loads with B alone', async () => {
    const version = await fleetVersion(db);
    const r = await rekey(['--json', '--batch', '3'], keyB, [keyA]);
    expect(r.code, r.stderr).toBe(0);
    expect(reportSchema.parse(JSON.parse(r.stdout))).toMatchObject({ dryRun: false, keyId: keyIdOf(keyB), total: N, rekeyed: N, current: 0, failed: [] });
    expectNoSecrets(r.stdout + r.stderr);
    for (const value of (await storedValues(db)).values()) expect(storedFormat(value)).toEqual({ version: 'v2', keyId: keyIdOf(keyB) });
    const secrets = await loadKeySecrets(db, createKeyring(keyB));
    expect([...secrets.entries()].sort()).toEqual(SECRETS.map((s, i) => [`k-${i}`, s]).sort());
    expect(await fleetVersion(db)).toBe(version);
    // an apply with B alone finds every secret unchanged
    const again = await applyFleet(db, rekeyFleet(N, secretOf), { secretKey: keyB, resolveEnv: () => undefined, prune: false });
    expect(again.changed).toBe(false);
  });

  it('a process still on the old key alone is refused with the missing key id named, and no key', async () => {
    let message = '';
    await loadKeySecrets(db, createKeyring(keyA)).catch((err: unknown) => (message = err instanceof Error ? err.message : String(err)));
    expect(message).toMatch(/^key "k-\d+": stored secret is encrypted under key id /);
    expect(message).toContain(keyIdOf(keyB));
    expectNoSecrets(message);
  });

  it('a second run finds everything current; a value under an unknown key is listed by key id and exits 1', async () => {
    const clean = await rekey(['--json'], keyB, [keyA]);
    expect(reportSchema.parse(JSON.parse(clean.stdout))).toMatchObject({ total: N, rekeyed: 0, current: N, failed: [] });
    await storeValue(db, 'k-3', encryptSecret(stranger, secretOf(3), 'k-3'));
    const r = await rekey([], keyB);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`${N} keys: 0 re-encrypted under key id ${keyIdOf(keyB)}, ${N - 1} already under it, 1 cannot be decrypted`);
    expect(r.stdout).toMatch(new RegExp(`^  k-3  stored under key id ${keyIdOf(stranger)}$`, 'm'));
    expectNoSecrets(r.stdout + r.stderr);
  });

  it('refuses the current key listed among the previous ones as a configuration error (exit 2)', async () => {
    const r = await rekey(['--dry-run'], keyB, [keyA, keyB]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/QUOTAFLOW_SECRET_PREVIOUS: entry 2 is QUOTAFLOW_SECRET itself/);
    expectNoSecrets(r.stdout + r.stderr);
  });
});
