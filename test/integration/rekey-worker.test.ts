import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createKeyring, keyIdOf } from '../../src/adapters/crypto/secret-box.js';
import type { Database } from '../../src/adapters/postgres/db.js';
import { applyFleet } from '../../src/adapters/postgres/fleet-repo.js';
import { rekeySecrets } from '../../src/adapters/postgres/rekey-repo.js';
import { createPostgresStores } from '../../src/adapters/postgres/stores.js';
import { createFleetCache, type FleetCache } from '../../src/app/fleet-cache.js';
import { createLogger } from '../../src/logger.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { rekeyFleet } from '../helpers/rekey.js';

const keyA = randomBytes(32);
const keyB = randomBytes(32);
const secretOf = (i: number): string => `worker-secret-${i}`;
const lineSchema = z.looseObject({ level: z.number(), msg: z.string(), err: z.looseObject({ message: z.string() }).optional() });

let t: TestDatabase;
let db: Database;
let cache: FleetCache | undefined;

beforeAll(async () => {
  t = await createTestDatabase();
  db = t.handle.db;
  await applyFleet(db, rekeyFleet(3, secretOf), { secretKey: keyA, resolveEnv: () => undefined, prune: false });
});
afterAll(async () => {
  await cache?.stop();
  await t?.drop();
});

describe('a worker still on the old key after a rotation', () => {
  it('keeps its fleet and logs one error naming the key id it lacks, without any secret or key', async () => {
    const lines: string[] = [];
    const destination = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(...chunk.toString().split('\n').filter(Boolean)), done()) });
    const oldWorker = createPostgresStores(db, { secretKey: keyA }).fleetSource;
    cache = await createFleetCache({ ...oldWorker, announcedVersion: () => oldWorker.storedVersion() }, { pollMs: 20, verifyEveryMs: 0, logger: createLogger({ level: 'info', destination }) });
    expect(cache.secretOf('k-1')).toBe(secretOf(1));

    await rekeySecrets(db, createKeyring(keyB, [keyA]), { dryRun: false, batch: 10 });
    // a later change the old worker must reload for
    await applyFleet(db, rekeyFleet(4, secretOf), { secretKey: keyB, keyring: createKeyring(keyB, [keyA]), resolveEnv: () => undefined, prune: false });

    const errors = (): Array<z.infer<typeof lineSchema>> => lines.map((l) => lineSchema.parse(JSON.parse(l))).filter((l) => l.level === 50);
    for (let i = 0; i < 200 && errors().length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    // several more polls fail the same way: still one error
    for (let i = 0; i < 10; i++) await new Promise((r) => setTimeout(r, 20));

    expect(errors()).toHaveLength(1);
    expect(errors()[0]?.err?.message).toContain(`stored secret is encrypted under key id ${keyIdOf(keyB)}`);
    expect(cache.secretOf('k-1')).toBe(secretOf(1));
    expect(cache.secretOf('k-3')).toBeUndefined();
    const all = lines.join('\n');
    for (const s of [0, 1, 2, 3].map(secretOf)) expect(all).not.toContain(s);
    for (const k of [keyA, keyB]) expect(all).not.toContain(k.toString('hex'));
  });
});
