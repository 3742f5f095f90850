import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli-process.js';
import { TEST_DATABASE_ADMIN_URL } from '../helpers/postgres.js';

/**
 * `quotaflow migrate` (and every worker and API process at start) migrates
 * the database. Started together on a fresh database they must take turns,
 * and when a migration does fail the user reads Postgres' own words.
 */
const created: string[] = [];
let dir: string;

async function admin<T>(fn: (sql: postgres.Sql) => Promise<T>, url = TEST_DATABASE_ADMIN_URL): Promise<T> {
  const sql = postgres(url, { max: 1, onnotice: () => undefined });
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** An empty database (not migrated), dropped in afterAll. */
async function freshDatabase(): Promise<string> {
  const name = `qf_t_${randomBytes(6).toString('hex')}`;
  await admin((sql) => sql.unsafe(`create database ${name}`));
  created.push(name);
  const u = new URL(TEST_DATABASE_ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

const migrate = (url: string): ReturnType<typeof runCli> => runCli(['migrate'], { DATABASE_URL: url, QUOTAFLOW_DATA_DIR: dir, LOG_LEVEL: 'warn' });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'qf-migrate-'));
});

afterAll(async () => {
  for (const name of created) await admin((sql) => sql.unsafe(`drop database if exists ${name} with (force)`));
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('quotaflow migrate', () => {
  it('succeeds in 8 processes started at once on a fresh database', async () => {
    const url = await freshDatabase();
    const runs = await Promise.all(Array.from({ length: 8 }, () => migrate(url)));
    for (const r of runs) expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const r of runs) expect(r.stdout).toContain('migrations applied (postgres)');
    const tables = await admin((sql) => sql<Array<{ n: number }>>`select count(*)::int as n from information_schema.tables where table_schema = 'public'`, url);
    expect(tables[0]?.n).toBeGreaterThanOrEqual(8);
    const applied = await admin((sql) => sql<Array<{ n: number }>>`select count(*)::int as n from drizzle.__drizzle_migrations`, url);
    const again = await migrate(url);
    expect(again.code).toBe(0);
    const after = await admin((sql) => sql<Array<{ n: number }>>`select count(*)::int as n from drizzle.__drizzle_migrations`, url);
    expect(after[0]?.n).toBe(applied[0]?.n);
  });

  it("names Postgres' own error, never the SQL, and exits 1", async () => {
    const url = await freshDatabase();
    // a table the first migration creates, already there: its CREATE TABLE fails
    await admin((sql) => sql.unsafe('create table api_keys (id text)'), url);
    const r = await migrate(url);
    const text = r.stdout + r.stderr;
    expect(r.code, text).toBe(1);
    expect(text).toContain('relation "api_keys" already exists');
    expect(text).not.toMatch(/Failed query|CREATE TABLE/i);
  });
});
