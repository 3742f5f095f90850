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
  | { kind: 'postgres'; db: PostgresJsDatabase<typeof schema> }
  | { kind: 'pglite'; db: PgliteDatabase<typeof schema> };

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
    const client = postgres(url, { max: opts.max ?? 10, onnotice: (n) => opts.onNotice?.(String(n.message ?? '')) });
    const db = drizzlePostgres({ client, schema });
    // postgres.js connects lazily: probe now so a bad URL fails at start, not on the first job.
    try {
      await db.execute(sql`select 1`);
    } catch (err) {
      await client.end({ timeout: 1 }).catch(() => undefined);
      throw dependencyError('cannot connect to Postgres', err, url);
    }
    return { db, kind: 'postgres', driver: { kind: 'postgres', db }, close: () => client.end({ timeout: 5 }) };
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

/** Applies the drizzle/ migrations of this package (idempotent); failures become a DependencyError. */
export async function migrateDatabase(handle: DatabaseHandle): Promise<void> {
  const migrationsFolder = join(packageRoot(), 'drizzle');
  try {
    if (handle.driver.kind === 'postgres') await migratePostgres(handle.driver.db, { migrationsFolder });
    else await migratePglite(handle.driver.db, { migrationsFolder });
  } catch (err) {
    throw dependencyError('database migration failed', err);
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

/** Wraps a driver error once; the URL's password (and the URL itself) never reach the message. */
export function dependencyError(what: string, err: unknown, url?: string): DependencyError {
  const raw = err instanceof Error ? err.message : String(err);
  const code = typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? ` [${err.code}]` : '';
  return new DependencyError(`${what}: ${redact(raw, url)}${code}`);
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
