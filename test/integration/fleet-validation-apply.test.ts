import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/adapters/crypto/secret-box.js';
import type { Database } from '../../src/adapters/postgres/db.js';
import { applyFleet, fleetVersion, loadFleet, planFleet, tenantByTokenHash } from '../../src/adapters/postgres/fleet-repo.js';
import { parseFleet } from '../../src/core/fleet-file.js';
import { ValidationError } from '../../src/errors.js';
import { runCli } from '../helpers/cli-process.js';
import { createTestDatabase, EXAMPLE_FLEET, type FleetDoc as BaseDoc, type TestDatabase } from '../helpers/postgres.js';

/** The helpers' fleet document, with the tenants' `tokenEnv`. */
type FleetDoc = Pick<BaseDoc, 'models' | 'projects' | 'keys'> & { tenants: Array<BaseDoc['tenants'][number] & { tokenEnv?: string }> };

const CENTRAL_SECRET = 'k-central-1-plaintext';
const SOLO_TOKEN = 'Qm7vR2xK9pL4sW8nZt3hY6bN1cF5Jx4kW9qE2Pd8';
const env: Record<string, string> = { CENTRAL_KEY_1: CENTRAL_SECRET, SOLO_TOKEN, WEAK_TOKEN: 'abc-0001' };
const secretKey = randomBytes(32);

let t: TestDatabase;
let db: Database;
let dir: string;
const doc = (edit: (d: FleetDoc) => void = () => {}): FleetDoc => {
  const d = structuredClone(EXAMPLE_FLEET) as FleetDoc;
  edit(d);
  return d;
};
const opts = (prune = false) => ({ secretKey, resolveEnv: (n: string) => env[n], prune });

beforeAll(async () => {
  t = await createTestDatabase();
  db = t.handle.db;
  dir = await mkdtemp(join(tmpdir(), 'qf-fleet-'));
});
afterAll(async () => {
  await t?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('apply --dry-run (planFleet)', () => {
  it('lists what would be created, updated and removed, secrets only as "secret changed", and writes nothing', async () => {
    await applyFleet(db, parseFleet(doc()), opts());
    const before = { version: await fleetVersion(db), fleet: await loadFleet(db) };
    const next = doc((d) => {
      d.projects[1]!.tier = 'tier2';
      d.keys[0]!.secret = 'k-acme-1-rotated';
      d.keys[1]!.priority = 3;
      d.tenants[1] = { id: 'solo', keyMode: 'central-only', tokenEnv: 'SOLO_TOKEN' };
      d.tenants.push({ id: 'newco', keyMode: 'central-only' });
      d.projects[0]!.limits = { 'gemini-2.5-pro': { rpm: 4, tpm: 250000, rpd: 100 } };
      d.keys = d.keys.filter((k) => k.id !== 'central-1');
    });
    const plan = await planFleet(db, parseFleet(next), opts(true));
    expect(plan.changed).toBe(true);
    expect(plan.version).toBe(before.version);
    const lines = plan.changes.map((c) => `${c.action} ${c.kind} ${c.id}: ${c.details.join(', ')}`);
    expect(lines).toEqual(
      expect.arrayContaining([
        'update projects proj-c: tier tier1 → tier2',
        'update keys acme-1: secret changed',
        'remove keys central-1: ',
        'update tenants solo: token set',
        'create tenants newco: ',
        'update limits proj-a gemini-2.5-pro rpm: value 2 → 4',
      ]),
    );
    expect(plan.keys).toEqual({ created: 0, updated: 1, unchanged: 0, removed: 1 });
    const shown = JSON.stringify(plan);
    for (const s of ['k-acme-1-rotated', 'k-acme-1', CENTRAL_SECRET, SOLO_TOKEN]) expect(shown).not.toContain(s);
    expect(await fleetVersion(db)).toBe(before.version);
    expect(await loadFleet(db)).toEqual(before.fleet);
  });

  it('a plan of the stored fleet is empty', async () => {
    const plan = await planFleet(db, parseFleet(doc()), opts());
    expect(plan.changed).toBe(false);
    expect(plan.changes).toEqual([]);
  });
});

describe('tenant tokens at apply', () => {
  it('resolves tokenEnv and stores only its hash', async () => {
    await applyFleet(db, parseFleet(doc((d) => void (d.tenants[1] = { id: 'solo', keyMode: 'central-only', tokenEnv: 'SOLO_TOKEN' }))), opts());
    expect((await tenantByTokenHash(db, hashToken(SOLO_TOKEN)))?.id).toBe('solo');
  });

  it('rejects a weak or unset tokenEnv naming the tenant and the variable, never the token, changing nothing', async () => {
    const version = await fleetVersion(db);
    const weak = doc((d) => {
      d.tenants[0] = { id: 'acme', tokenEnv: 'WEAK_TOKEN' };
      d.tenants[1] = { id: 'solo', keyMode: 'central-only', tokenEnv: 'UNSET_TOKEN' };
    });
    const err = await applyFleet(db, parseFleet(weak), opts()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    const issues = err instanceof ValidationError ? err.issues : [];
    expect(issues).toEqual([
      'tenants.0 (acme): the token is 8 characters long; use at least 32 random characters (e.g. `openssl rand -hex 32`)',
      'tenants.1 (solo): environment variable "UNSET_TOKEN" (tokenEnv) is not set',
    ]);
    expect(String(err)).not.toContain('abc-0001');
    expect(await fleetVersion(db)).toBe(version);
  });
});

describe('a fleet of 40,000 projects through `quotaflow apply`', () => {
  const N = 40_000;
  const big = {
    models: ['gemini-2.5-flash'],
    projects: Array.from({ length: N }, (_, i) => ({ id: `p-${i}`, tier: 'tier1', limits: { 'gemini-2.5-flash': { rpm: 100 + (i % 7), tpm: 1_000_000, rpd: 10_000 } } })),
    tenants: Array.from({ length: 1000 }, (_, i) => ({ id: `t-${i}` })),
    keys: Array.from({ length: N }, (_, i) => ({ id: `k-${i}`, tenant: i % 2 ? `t-${i % 1000}` : null, project: `p-${i}`, secret: `sk-big-${i}-${'x'.repeat(20)}` })),
  };
  let url: TestDatabase;

  beforeAll(async () => {
    url = await createTestDatabase();
    await writeFile(join(dir, 'big.json'), JSON.stringify(big));
  });
  afterAll(async () => {
    await url?.drop();
  });

  const apply = (...extra: string[]): ReturnType<typeof runCli> =>
    runCli(['apply', '-f', join(dir, 'big.json'), '--json', ...extra], { DATABASE_URL: url.url, QUOTAFLOW_SECRET: secretKey.toString('hex'), QUOTAFLOW_PREFIX: `qft-big-${randomBytes(3).toString('hex')}`, LOG_LEVEL: 'warn' });

  it('applies in batches (no parameter overflow, no SQL printed), then re-applies as unchanged', async () => {
    const started = Date.now();
    const first = await apply();
    const firstMs = Date.now() - started;
    expect(first.code, first.stderr.slice(0, 2000)).toBe(0);
    expect(first.stderr).not.toMatch(/insert into|Failed query/i);
    const s = JSON.parse(first.stdout) as { projects: { created: number }; keys: { created: number }; limits: { created: number }; changed: boolean };
    expect(s.projects.created).toBe(N);
    expect(s.keys.created).toBe(N);
    expect(s.limits.created).toBe(3 * N);
    const again = Date.now();
    const second = await apply();
    const secondMs = Date.now() - again;
    expect(second.code, second.stderr.slice(0, 2000)).toBe(0);
    expect((JSON.parse(second.stdout) as { changed: boolean }).changed).toBe(false);
    const fleet = await loadFleet(url.handle.db);
    expect(fleet.projects).toHaveLength(N);
    expect(fleet.keys).toHaveLength(N);
    // a figure for the record, not an assertion: speed is for benchmarks
    console.log(`40,000 projects + 40,000 keys + 120,000 limits: first apply ${firstMs} ms, unchanged re-apply ${secondMs} ms (process start included)`);
    // a ceiling for a hung run, not a speed requirement: two applies of 200,000 rows on a shared machine
  }, 300_000);
});
