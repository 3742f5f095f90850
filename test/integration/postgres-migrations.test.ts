import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dependencyError, migrateDatabase, openDatabase, packageRoot, PGLITE_WARNING, type Database } from '../../src/adapters/postgres/db.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';

const TABLES = ['api_keys', 'model_limits', 'projects', 'rpd_ledger', 'scope_exclusions', 'settings', 'tenants', 'usage_events'];

async function tables(db: Database): Promise<string[]> {
  const rows = await db.execute<{ table_name: string }>(
    sql`select table_name from information_schema.tables where table_schema = 'public' order by table_name`,
  );
  // postgres.js returns an array of rows, PGlite an object with `rows`.
  const list = Array.isArray(rows) ? rows : (rows as unknown as { rows: Array<{ table_name: string }> }).rows;
  return list.map((r) => r.table_name);
}

describe('migrations on Postgres', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => {
    await t.drop();
  });

  it('creates every table in a fresh database', async () => {
    expect(t.handle.kind).toBe('postgres');
    expect(await tables(t.handle.db)).toEqual(expect.arrayContaining(TABLES));
  });

  it('is idempotent', async () => {
    await migrateDatabase(t.handle);
    expect(await tables(t.handle.db)).toEqual(expect.arrayContaining(TABLES));
  });
});

describe('migrations on PGlite', () => {
  it('creates every table in a temp data dir, and they persist across reopen', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'qf-pglite-'));
    try {
      const h = await openDatabase({ dataDir: dir });
      expect(h.kind).toBe('pglite');
      await migrateDatabase(h);
      expect(await tables(h.db)).toEqual(expect.arrayContaining(TABLES));
      await h.close();
      const again = await openDatabase({ dataDir: dir });
      expect(await tables(again.db)).toEqual(expect.arrayContaining(TABLES));
      await again.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('database boundary', () => {
  it('finds the package root holding drizzle/, walking up from any depth', () => {
    const root = packageRoot();
    expect(existsSync(join(root, 'drizzle', 'meta', '_journal.json'))).toBe(true);
    expect(packageRoot(join(root, 'dist', 'src', 'adapters', 'postgres'))).toBe(root);
  });

  it('says why PGlite is single-process', () => {
    expect(PGLITE_WARNING).toContain('DATABASE_URL');
    expect(PGLITE_WARNING).toMatch(/ONE process/);
  });

  it('wraps a connection failure once, without the password', async () => {
    const err = await openDatabase({ databaseUrl: 'postgres://someone:hunter2secret@127.0.0.1:1/nowhere', dataDir: '.' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'dependency_unavailable' });
    expect(String((err as Error).message)).not.toContain('hunter2secret');
  });

  it('redacts the URL and its password from driver messages', () => {
    const url = 'postgres://someone:hunter2secret@db.example:5432/q';
    const e = dependencyError('query failed', Object.assign(new Error(`bad ${url} and hunter2secret`), { code: 'XX000' }), url);
    expect(e.message).not.toContain('hunter2secret');
    expect(e.message).toContain('[XX000]');
  });
});
