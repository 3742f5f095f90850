import { createCipheriv, randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Database } from '../../src/adapters/postgres/db.js';
import { apiKeys } from '../../src/adapters/postgres/schema.js';
import { parseFleet, type FleetSpec } from '../../src/core/fleet-file.js';

/** Central keys `k-0`..`k-<n-1>`, each on its own project, with inline secrets `rk-secret-<i>-…`. */
export function rekeyFleet(n: number, secretOf: (i: number) => string = (i) => `rk-secret-${i}-plaintext`): FleetSpec {
  return parseFleet({
    models: ['gemini-2.5-flash'],
    projects: Array.from({ length: n }, (_, i) => ({ id: `p-${i}`, tier: 'tier1' })),
    tenants: [],
    keys: Array.from({ length: n }, (_, i) => ({ id: `k-${i}`, tenant: null, project: `p-${i}`, secret: secretOf(i), priority: 1 })),
  });
}

/** Every stored value, by key row id. */
export async function storedValues(db: Database): Promise<Map<string, string>> {
  const rows = await db.select({ id: apiKeys.id, secretEnc: apiKeys.secretEnc }).from(apiKeys);
  return new Map(rows.map((r) => [r.id, r.secretEnc]));
}

export async function storeValue(db: Database, id: string, secretEnc: string): Promise<void> {
  await db.update(apiKeys).set({ secretEnc }).where(eq(apiKeys.id, id));
}

/** A value in the former v1 format (no key id, nothing bound), as older versions stored it. */
export function v1Value(key: Buffer, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
}
