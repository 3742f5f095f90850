import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite, type PgliteDatabase } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { DependencyError } from '../../errors.js';
import * as schema from './schema.js';

/** What every repository takes: satisfied by both the postgres.js and the PGlite drizzle instances. */
export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;

export const PGLITE_WARNING =
  'DATABASE_URL is unset: using the embedded PGlite database, which serves ONE process only; set DATABASE_URL to run several workers';

type Driver =
  | { kind: 'postgres'; db: PostgresJsDatabase<typeof schema>; url: string }
  | { kind: 'pglite'; db: PgliteDatabase<typeof schema> };

/** The advisory lock key that serialises migrations across processes (any fixed 64-bit number; this one spells nothing). */
export const MIGRATION_LOCK_KEY = 7_302_416_589_211_004;

export interface DatabaseHandle {
  db: Database;
  kind: 'postgres' | 'pglite';
  close(): Promise<void>;
  /** the concrete driver, for the migrator (which is per driver) */
  readonly driver: Driver;
}

export interface OpenDatabaseOptions {
  /** set => Postgres through postgres.js; unset => PGlite under `<dataDir>/pglite` */
  databaseUrl?: string;
  dataDir: string;
  /** pool size (postgres.js only) */
  max?: number;
  onNotice?: (message: string) => void;
}

/** Opens (and probes) the database; failures become a DependencyError whose message holds no password. */
export async function openDatabase(opts: OpenDatabaseOptions): Promise<DatabaseHandle> {
  const url = opts.databaseUrl;
  if (url) {
    const client = postgres(url, { max: opts.max ?? 10, connect_timeout: 5, onnotice: (n) => opts.onNotice?.(String(n.message ?? '')) });
    const db = drizzlePostgres({ client, schema });
    // postgres.js connects lazily: probe now so a bad URL fails at start, not on the first job.
    try {
      await db.execute(sql`select 1`);
    } catch (err) {
      await client.end({ timeout: 1 }).catch(() => undefined);
      throw dependencyError('cannot connect to Postgres', err, url);
    }
    return { db, kind: 'postgres', driver: { kind: 'postgres', db, url }, close: () => client.end({ timeout: 5 }) };
  }
  const dir = join(opts.dataDir, 'pglite');
  try {
    await mkdir(dir, { recursive: true });
    const client = await PGlite.create(dir);
    const db = drizzlePglite({ client, schema });
    return { db, kind: 'pglite', driver: { kind: 'pglite', db }, close: () => client.close() };
  } catch (err) {
    throw dependencyError(`cannot open the embedded database in ${dir}`, err);
  }
}

/**
 * Applies the drizzle/ migrations of this package (idempotent); failures
 * become a DependencyError with the database's own message. On Postgres,
 * processes starting together (an API and N workers) would race on
 * `CREATE TABLE`: they take turns under an advisory lock instead.
 */
export async function migrateDatabase(handle: DatabaseHandle): Promise<void> {
  const migrationsFolder = join(packageRoot(), 'drizzle');
  const url = handle.driver.kind === 'postgres' ? handle.driver.url : undefined;
  try {
    if (handle.driver.kind === 'postgres') await migrateUnderLock(handle.driver.url, migrationsFolder);
    else await migratePglite(handle.driver.db, { migrationsFolder });
  } catch (err) {
    throw dependencyError('database migration failed', err, url);
  }
}

/** A session-level lock lives on one connection: lock, migrate and unlock all go through a one-connection client. */
async function migrateUnderLock(url: string, migrationsFolder: string): Promise<void> {
  const client = postgres(url, { max: 1, onnotice: () => undefined });
  try {
    await client`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
    try {
      await migratePostgres(drizzlePostgres({ client }), { migrationsFolder });
    } finally {
      await client`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`.catch(() => undefined);
    }
  } finally {
    await client.end({ timeout: 5 });
  }
}

/** The directory holding quotaflow's package.json: found by walking up, so src/ (tsx) and dist/src/ both work. */
export function packageRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && readName(pkg) === 'quotaflow') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new DependencyError(`cannot find the quotaflow package (and its drizzle/ folder) above ${from}`);
    dir = parent;
  }
}

function readName(pkgPath: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(readFileSync(pkgPath, 'utf8'));
    return typeof parsed === 'object' && parsed !== null && 'name' in parsed && typeof parsed.name === 'string' ? parsed.name : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Wraps a driver error once, with the database's own words: drizzle's
 * "Failed query: <SQL>" wrapper is replaced by its cause (the SQL of a big
 * fleet can run to megabytes, and it holds values); the URL's password (and
 * the URL itself) never reach the message.
 */
export function dependencyError(what: string, err: unknown, url?: string): DependencyError {
  const cause = driverCause(err);
  const raw = cause instanceof Error ? cause.message : String(cause);
  const text = raw.startsWith('Failed query:') ? 'a query failed' : raw;
  const code = typeof cause === 'object' && cause !== null && 'code' in cause && typeof cause.code === 'string' ? ` [${cause.code}]` : '';
  return new DependencyError(`${what}: ${redact(text, url)}${code}`);
}

/** The innermost cause of a driver error (drizzle wraps the database's error in one or more layers). */
export function driverCause(err: unknown): unknown {
  let e = err;
  for (let depth = 0; depth < 5 && e instanceof Error && e.cause !== undefined && e.message.startsWith('Failed query:'); depth++) e = e.cause;
  return e;
}

function redact(message: string, url: string | undefined): string {
  if (!url) return message;
  let out = message.split(url).join('<DATABASE_URL>');
  try {
    const password = decodeURIComponent(new URL(url).password);
    if (password) out = out.split(password).join('***');
  } catch {
    // not a parseable URL: the whole-URL replacement above is all we can do
  }
  return out;
}
