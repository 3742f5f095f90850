/**
 * Fresh, disposable infrastructure for one run: a new Postgres database, a
 * new Redis prefix, quotaflow config pointing at both and at the stand-in.
 * cleanup() drops the database and every key under the prefix.
 */
import { randomBytes } from 'node:crypto';
import { parseConfig, type Config } from '../../src/config.js';
import { createTestDatabase, type TestDatabase } from '../../test/helpers/postgres.js';
import { dropPrefix } from '../../test/helpers/redis.js';

export interface RunEnv {
  prefix: string;
  db: TestDatabase;
  /** quotaflow's config; databaseUrl may be redirected (e.g. through a statement counter) */
  config(opts: { geminiBaseUrl: string; dayLengthMs?: number; breakerOpenMs?: number; databaseUrl?: string }): Config;
  cleanup(): Promise<void>;
}

export async function openRunEnv(name: string, redisUrl: string): Promise<RunEnv> {
  const db = await createTestDatabase({ max: 4 });
  const prefix = `qfb-${name}-${randomBytes(4).toString('hex')}`.slice(0, 64);
  const secret = randomBytes(32).toString('hex');
  return {
    prefix,
    db,
    config: (o) =>
      parseConfig({
        REDIS_URL: redisUrl,
        DATABASE_URL: o.databaseUrl ?? db.url,
        GEMINI_BASE_URL: o.geminiBaseUrl,
        QUOTAFLOW_SECRET: secret,
        QUOTAFLOW_PREFIX: prefix,
        QUOTAFLOW_DATA_DIR: '.quotaflow/bench',
        QUOTAFLOW_DAY_LENGTH_MS: o.dayLengthMs === undefined ? undefined : String(o.dayLengthMs),
        QUOTAFLOW_BREAKER_OPEN_MS: o.breakerOpenMs === undefined ? undefined : String(o.breakerOpenMs),
        LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'silent',
      }),
    async cleanup() {
      await db.drop().catch((err: unknown) => console.warn(`could not drop the bench database: ${String(err)}`));
      await dropPrefix(prefix, redisUrl).catch((err: unknown) => console.warn(`could not drop prefix ${prefix}: ${String(err)}`));
    },
  };
}
