import { sql } from 'drizzle-orm';
import type { DiscoveryState } from '../../core/discovery.js';
import type { Database } from './db.js';
import { discoveredLimits } from './schema.js';

export interface StoredDiscovery {
  projectId: string;
  model: string;
  dimension: string;
  state: DiscoveryState;
}

/** Every stored discovery state. */
export async function loadDiscovery(db: Database): Promise<StoredDiscovery[]> {
  const rows = await db.select().from(discoveredLimits);
  return rows.map((r) => ({ projectId: r.projectId, model: r.model, dimension: r.dimension, state: r.state as DiscoveryState }));
}

/** Upserts states in batches; a row is written only when its state changed. */
export async function saveDiscovery(db: Database, rows: readonly StoredDiscovery[]): Promise<number> {
  let written = 0;
  for (let i = 0; i < rows.length; i += 1_000) {
    const batch = rows.slice(i, i + 1_000);
    const out = await db
      .insert(discoveredLimits)
      .values(batch.map((r) => ({ projectId: r.projectId, model: r.model, dimension: r.dimension, state: r.state })))
      .onConflictDoUpdate({
        target: [discoveredLimits.projectId, discoveredLimits.model, discoveredLimits.dimension],
        set: { state: sql`excluded.state`, updatedAt: sql`now()` },
        setWhere: sql`${discoveredLimits.state} is distinct from excluded.state`,
      })
      .returning({ projectId: discoveredLimits.projectId });
    written += out.length;
  }
  return written;
}
