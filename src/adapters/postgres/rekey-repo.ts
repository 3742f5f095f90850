import { and, asc, count, eq, gt, inArray, sql } from 'drizzle-orm';
import type { RekeyOptions, RekeyReport } from '../../app/stores.js';
import { reencryptSecret, type Keyring } from '../crypto/secret-box.js';
import type { Database } from './db.js';
import { apiKeys } from './schema.js';

/**
 * Re-encrypting stored secrets under the current key while everything runs.
 * Rows are read in pages by id and rewritten in one transaction per page.
 * Each write is a compare-and-set on the value read, and runs under the lock
 * apply and key adds take: an apply holds it from its read to its commit, so
 * it can never write back a value it read before a rekey replaced it, and a
 * value it wrote is what the compare sees.
 */

export interface StoredSecret {
  id: string;
  secretEnc: string;
}

/** A value to replace: `to` is written only where the row still holds `from`. */
export interface SecretRewrite {
  id: string;
  from: string;
  to: string;
}

/** How a page of rows splits: what to rewrite, what is current, what the keyring cannot open. */
export interface PagePlan {
  rewrites: SecretRewrite[];
  current: number;
  failed: RekeyReport['failed'];
}

// A row whose value changed under us is read again and retried; another writer changing it this often is reported instead.
const MAX_ROUNDS = 3;

/** The next `limit` rows after id `after` (from the first with null), by id. */
export async function readSecretPage(db: Database, after: string | null, limit: number): Promise<StoredSecret[]> {
  return db
    .select({ id: apiKeys.id, secretEnc: apiKeys.secretEnc })
    .from(apiKeys)
    .where(after === null ? undefined : gt(apiKeys.id, after))
    .orderBy(asc(apiKeys.id))
    .limit(limit);
}

/** Decides each row of a page (decrypting with the keyring, encrypting under its current key); writes nothing. */
export function planPage(keyring: Keyring, rows: readonly StoredSecret[]): PagePlan {
  const plan: PagePlan = { rewrites: [], current: 0, failed: [] };
  for (const row of rows) {
    const r = reencryptSecret(keyring, row.secretEnc, row.id);
    if (r.kind === 'current') plan.current++;
    else if (r.kind === 'undecryptable') plan.failed.push({ id: row.id, storedUnder: r.storedUnder });
    else plan.rewrites.push({ id: row.id, from: row.secretEnc, to: r.boxed });
  }
  return plan;
}

/** Writes each rewrite where the row still holds the value read, in one transaction; returns the ids that had changed (or gone). */
export async function writeIfUnchanged(db: Database, rewrites: readonly SecretRewrite[]): Promise<string[]> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext('quotaflow.apply_fleet'))`);
    const lost: string[] = [];
    for (const w of rewrites) {
      const hit = await tx
        .update(apiKeys)
        .set({ secretEnc: w.to, updatedAt: sql`now()` })
        .where(and(eq(apiKeys.id, w.id), eq(apiKeys.secretEnc, w.from)))
        .returning({ id: apiKeys.id });
      if (hit.length === 0) lost.push(w.id);
    }
    return lost;
  });
}

/** Every stored secret rewritten under the keyring's current key (see RekeyOptions, RekeyReport). */
export async function rekeySecrets(db: Database, keyring: Keyring, opts: RekeyOptions): Promise<RekeyReport> {
  const [counted] = await db.select({ n: count() }).from(apiKeys);
  const report: RekeyReport = { dryRun: opts.dryRun, keyId: keyring.currentId, total: 0, rekeyed: 0, current: 0, failed: [], skipped: [] };
  let after: string | null = null;
  for (;;) {
    const rows = await readSecretPage(db, after, opts.batch);
    const last = rows.at(-1);
    if (last === undefined) break;
    await settlePage(db, keyring, rows, opts.dryRun, report);
    report.total += rows.length;
    after = last.id;
    opts.onProgress?.({ done: report.total, total: Math.max(counted?.n ?? 0, report.total) });
  }
  return report;
}

/** Plans and writes one page, re-reading rows another writer changed meanwhile; adds to `report`. */
async function settlePage(db: Database, keyring: Keyring, rows: readonly StoredSecret[], dryRun: boolean, report: RekeyReport): Promise<void> {
  let pending = rows;
  for (let round = 0; round < MAX_ROUNDS && pending.length > 0; round++) {
    const plan = planPage(keyring, pending);
    report.current += plan.current;
    report.failed.push(...plan.failed);
    const lost = dryRun || plan.rewrites.length === 0 ? [] : await writeIfUnchanged(db, plan.rewrites);
    report.rekeyed += plan.rewrites.length - lost.length;
    // a row removed meanwhile (pruned) is simply not read again
    pending = lost.length === 0 ? [] : await db.select({ id: apiKeys.id, secretEnc: apiKeys.secretEnc }).from(apiKeys).where(inArray(apiKeys.id, lost));
  }
  report.skipped.push(...pending.map((r) => r.id));
}
