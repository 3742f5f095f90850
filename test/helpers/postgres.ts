import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { migrateDatabase, openDatabase, type DatabaseHandle } from '../../src/adapters/postgres/db.js';

/** A fleet document, loosely typed so tests can build valid and invalid variants. */
export interface FleetDoc {
  models: string[];
  projects: Array<{ id: string; tier?: string; limits?: Record<string, Record<string, number>> }>;
  tenants: Array<{ id: string; keyMode?: string; models?: string[]; token?: string }>;
  keys: Array<{ id: string; tenant?: string | null; project?: string; secret?: string; secretEnv?: string; priority?: number; enabled?: boolean }>;
  [extra: string]: unknown;
}

/** The example fleet of the brief: what apply, load and the fleet-file tests start from. */
export const EXAMPLE_FLEET: Readonly<FleetDoc> = {
  models: ['gemini-2.5-pro', 'gemini-2.5-flash'],
  projects: [
    { id: 'proj-a', tier: 'free', limits: { 'gemini-2.5-pro': { rpm: 2, tpm: 250000, rpd: 100 } } },
    { id: 'proj-c', tier: 'tier1' },
  ],
  tenants: [
    { id: 'acme', keyMode: 'own-then-central', models: ['gemini-2.5-pro', 'gemini-2.5-flash'] },
    { id: 'solo', keyMode: 'central-only' },
  ],
  keys: [
    { id: 'acme-1', tenant: 'acme', project: 'proj-a', secret: 'k-acme-1', priority: 1 },
    { id: 'central-1', tenant: null, project: 'proj-c', secretEnv: 'CENTRAL_KEY_1', priority: 1 },
  ],
};

export const TEST_DATABASE_ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  /** connection URL of the fresh database (for child processes) */
  url: string;
  handle: DatabaseHandle;
  /** closes the handle and drops the database */
  drop(): Promise<void>;
}

/** A fresh, migrated database `qf_t_<random>` for one test file (call in beforeAll, drop in afterAll). */
export async function createTestDatabase(opts: { max?: number } = {}): Promise<TestDatabase> {
  const name = `qf_t_${randomBytes(6).toString('hex')}`;
  await admin((sql) => sql.unsafe(`create database ${name}`));
  const u = new URL(TEST_DATABASE_ADMIN_URL);
  u.pathname = `/${name}`;
  const url = u.toString();
  const handle = await openDatabase({ databaseUrl: url, dataDir: '.', ...(opts.max ? { max: opts.max } : {}) });
  await migrateDatabase(handle);
  return {
    url,
    handle,
    async drop() {
      await handle.close();
      await admin((sql) => sql.unsafe(`drop database if exists ${name} with (force)`));
    },
  };
}

async function admin(fn: (sql: postgres.Sql) => Promise<unknown>): Promise<void> {
  const sql = postgres(TEST_DATABASE_ADMIN_URL, { max: 1, onnotice: () => {} });
  try {
    await fn(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}
