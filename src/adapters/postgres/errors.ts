import { QuotaflowError } from '../../errors.js';
import { dependencyError } from './db.js';

/**
 * Postgres failures, wrapped once at this boundary: what the driver throws
 * becomes a DependencyError carrying the database's own message (never the
 * SQL text, never the URL). quotaflow's own errors (validation, not found,
 * undecryptable secrets) pass through unchanged.
 */
export async function viaPostgres<T>(what: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    if (err instanceof QuotaflowError) throw err;
    throw dependencyError(`Postgres ${what} failed`, err);
  }
}
