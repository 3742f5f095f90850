import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/adapters/crypto/secret-box.js';
import type { Database } from '../../src/adapters/postgres/db.js';
import {
  applyFleet,
  disableKey,
  enableKey,
  fleetVersion,
  loadFleet,
  loadKeySecrets,
  tenantByTokenHash,
  type ApplySummary,
} from '../../src/adapters/postgres/fleet-repo.js';
import { parseFleet, type FleetSpec } from '../../src/core/fleet-file.js';
import { createTestDatabase, EXAMPLE_FLEET, type FleetDoc, type TestDatabase } from '../helpers/postgres.js';

const CENTRAL_SECRET = 'k-central-1-plaintext';
const env: Record<string, string> = { CENTRAL_KEY_1: CENTRAL_SECRET };
const secretKey = randomBytes(32);
const TABLES = ['settings', 'tenants', 'projects', 'api_keys', 'model_limits', 'rpd_ledger', 'scope_exclusions', 'usage_events'];

type Doc = FleetDoc;
const doc = (edit: (d: Doc) => void = () => {}): FleetSpec => {
  const d = structuredClone(EXAMPLE_FLEET) as Doc;
  edit(d);
  return parseFleet(d);
};

let t: TestDatabase;
let db: Database;
const apply = (spec: FleetSpec, prune = false, key = secretKey): Promise<ApplySummary> =>
  applyFleet(db, spec, { secretKey: key, resolveEnv: (n) => env[n], prune });

beforeAll(async () => {
  t = await createTestDatabase();
  db = t.handle.db;
});
afterAll(async () => {
  await t.drop();
});

describe('applyFleet', () => {
  it('applies the example fleet', async () => {
    expect(await fleetVersion(db)).toBe('0');
    const s = await apply(doc());
    expect(s.changed).toBe(true);
    expect(s.version).toBe('1');
    expect(s.models).toEqual({ created: 2, updated: 0, unchanged: 0, removed: 0 });
    expect(s.projects.created).toBe(2);
    expect(s.tenants.created).toBe(2);
    expect(s.keys.created).toBe(2);
    expect(s.limits.created).toBe(3);
  });

  it('changes nothing on re-apply and keeps the version', async () => {
    const s = await apply(doc());
    expect(s.changed).toBe(false);
    expect(s.version).toBe('1');
    for (const kind of ['models', 'projects', 'tenants', 'keys', 'limits'] as const) {
      expect(s[kind].created + s[kind].updated + s[kind].removed).toBe(0);
    }
    expect(s.keys.unchanged).toBe(2);
  });

  it('counts one update and bumps the version when a priority changes', async () => {
    const s = await apply(doc((d) => (d.keys[0]!.priority = 5)));
    expect(s.keys).toEqual({ created: 0, updated: 1, unchanged: 1, removed: 0 });
    expect(s.version).toBe('2');
    expect((await loadFleet(db)).keys.find((k) => k.id === 'acme-1')?.priority).toBe(5);
  });

  it('loads the fleet as the engine sees it, without secrets', async () => {
    const f = await loadFleet(db);
    expect(f.version).toBe('2');
    expect(f.models).toEqual(['gemini-2.5-pro', 'gemini-2.5-flash']);
    expect(f.projects.find((p) => p.id === 'proj-a')).toEqual({
      id: 'proj-a',
      tier: 'free',
      limits: { 'gemini-2.5-pro': { rpm: 2, tpm: 250000, rpd: 100 } },
    });
    expect(f.tenants).toContainEqual({ id: 'solo', keyMode: 'central-only', models: null, settings: { weight: 1, limits: {}, budget: null, pinModel: false } });
    expect(f.keys).toContainEqual({ id: 'central-1', tenantId: null, projectId: 'proj-c', priority: 1, enabled: true, disabledReason: null });
    expect(JSON.stringify(f)).not.toContain('k-acme-1');
  });

  it('stores secrets encrypted: no plaintext in any table; loadKeySecrets decrypts them', async () => {
    const sql = postgres(t.url, { max: 1, onnotice: () => {} });
    try {
      for (const table of TABLES) {
        const rows = await sql.unsafe<Array<{ row: string }>>(`select t::text as row from ${table} t`);
        const text = rows.map((r) => r.row).join('\n');
        if (table === 'api_keys') expect(text).toContain('v2.');
        expect(text).not.toContain('k-acme-1');
        expect(text).not.toContain(CENTRAL_SECRET);
      }
    } finally {
      await sql.end();
    }
    const secrets = await loadKeySecrets(db, secretKey);
    expect(secrets.get('acme-1')).toBe('k-acme-1');
    expect(secrets.get('central-1')).toBe(CENTRAL_SECRET);
  });

  it('refuses to re-apply under a different QUOTAFLOW_SECRET, changing nothing', async () => {
    await expect(apply(doc((d) => (d.keys[0]!.priority = 5)), false, randomBytes(32))).rejects.toMatchObject({
      code: 'secret_undecryptable',
    });
    await expect(loadKeySecrets(db, randomBytes(32))).rejects.toMatchObject({ code: 'secret_undecryptable' });
    expect(await fleetVersion(db)).toBe('2');
  });

  it('rejects an unset secretEnv naming the variable, before changing anything', async () => {
    const spec = doc((d) => {
      d.keys[1]!.secretEnv = 'NOT_SET_ANYWHERE';
      d.keys[0]!.priority = 9;
    });
    const err = await apply(spec).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'invalid_input' });
    expect((err as Error).message).toContain('NOT_SET_ANYWHERE');
    expect(await fleetVersion(db)).toBe('2');
  });

  it('resolves secretEnv through the injected lookup', async () => {
    env.CENTRAL_KEY_1 = 'k-central-rotated';
    const s = await apply(doc((d) => (d.keys[0]!.priority = 5)));
    expect(s.keys.updated).toBe(1);
    expect((await loadKeySecrets(db, secretKey)).get('central-1')).toBe('k-central-rotated');
    env.CENTRAL_KEY_1 = CENTRAL_SECRET;
    expect((await apply(doc((d) => (d.keys[0]!.priority = 5)))).keys.updated).toBe(1);
  });

  it('keeps a system-disabled key disabled on re-apply, until its secret changes', async () => {
    const base = (d: Doc): void => void (d.keys[0]!.priority = 5);
    await disableKey(db, 'acme-1', 'API_KEY_INVALID', 'system');
    const v = await fleetVersion(db);
    const again = await apply(doc(base));
    expect(again.changed).toBe(false);
    expect(again.version).toBe(v);
    let key = (await loadFleet(db)).keys.find((k) => k.id === 'acme-1');
    expect(key).toMatchObject({ enabled: false, disabledReason: 'API_KEY_INVALID' });

    const s = await apply(doc((d) => (base(d), (d.keys[0]!.secret = 'k-acme-1-new'))));
    expect(s.keys.updated).toBe(1);
    key = (await loadFleet(db)).keys.find((k) => k.id === 'acme-1');
    expect(key).toMatchObject({ enabled: true, disabledReason: null });
  });

  it('disables keys the file disables, and re-enables them when it stops', async () => {
    const withSecret = (d: Doc): void => void ((d.keys[0]!.secret = 'k-acme-1-new'), (d.keys[0]!.priority = 5));
    await apply(doc((d) => (withSecret(d), (d.keys[1]!.enabled = false))));
    expect((await loadFleet(db)).keys.find((k) => k.id === 'central-1')).toMatchObject({ enabled: false, disabledReason: 'disabled in fleet file' });
    await apply(doc(withSecret));
    expect((await loadFleet(db)).keys.find((k) => k.id === 'central-1')?.enabled).toBe(true);
  });

  it('disableKey and enableKey bump the version only when they change something', async () => {
    const v0 = Number(await fleetVersion(db));
    await disableKey(db, 'central-1', 'forbidden', 'admin');
    await disableKey(db, 'central-1', 'forbidden', 'admin');
    await disableKey(db, 'no-such-key', 'x', 'system');
    expect(Number(await fleetVersion(db))).toBe(v0 + 1);
    expect(await enableKey(db, 'central-1')).toBe(true);
    expect(await enableKey(db, 'central-1')).toBe(false);
    expect(Number(await fleetVersion(db))).toBe(v0 + 2);
    await expect(enableKey(db, 'no-such-key')).rejects.toMatchObject({ code: 'not_found' });
  });

  it('creates implicit key:<id> projects, stores token hashes, and prunes only with --prune', async () => {
    const token = 'solo-token-0123456789-Qm7vR2xK9pL4sW8n';
    const bigger = (d: Doc): void => {
      d.keys[0]!.secret = 'k-acme-1-new';
      d.keys[0]!.priority = 5;
      d.tenants[1]!.token = token;
      d.keys.push({ id: 'loose', tenant: 'solo', secret: 'k-loose' });
    };
    const s = await apply(doc(bigger));
    expect(s.projects.created).toBe(1);
    expect((await loadFleet(db)).projects).toContainEqual({ id: 'key:loose', tier: 'free', limits: {} });
    expect(await tenantByTokenHash(db, hashToken(token))).toEqual({ id: 'solo', keyMode: 'central-only', models: null, settings: { weight: 1, limits: {}, budget: null, pinModel: false } });
    expect(await tenantByTokenHash(db, hashToken('wrong-token-0123456'))).toBeNull();

    const withoutLoose = (d: Doc): void => void (bigger(d), d.keys.pop(), d.projects[0]!.limits = {});
    const kept = await apply(doc(withoutLoose));
    expect(kept.keys.removed).toBe(0);
    expect(kept.limits.removed).toBe(0);
    const pruned = await apply(doc(withoutLoose), true);
    expect(pruned.keys.removed).toBe(1);
    expect(pruned.projects.removed).toBe(1);
    expect(pruned.limits.removed).toBe(3);
    const f = await loadFleet(db);
    expect(f.keys.map((k) => k.id).sort()).toEqual(['acme-1', 'central-1']);
    expect(f.projects.map((p) => p.id)).not.toContain('key:loose');
  });
});
