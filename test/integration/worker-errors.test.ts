import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGenerationWorker, type GenerationWorker } from '../../workers/generation.js';
import { createClient, GenerationFailedError, type QuotaflowClient } from '../../src/adapters/queue/client.js';
import { parseConfig } from '../../src/config.js';
import { parseFleet } from '../../src/core/fleet-file.js';
import { createLogger } from '../../src/logger.js';
import { startSimulator, type SimulatorHandle } from '../../src/simulator/index.js';
import { openSystem, type System } from '../../src/system.js';
import { startAofRedis, type AofRedis } from '../reliability/helpers/private-redis.js';
import { matchedConfigs } from '../helpers/fleets.js';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.js';
import { testPrefix } from '../helpers/redis.js';

/**
 * The worker tells a bug from an outage: an exception nobody anticipated
 * fails the job at once with `internal`; Redis going away for a moment makes
 * jobs wait and then complete.
 */
const FLASH = 'gemini-2.5-flash';
const cfg = matchedConfigs({ models: [FLASH], projects: { p1: {} }, tenants: [{ id: 'acme' }], keys: [{ id: 'k1', tenant: null, project: 'p1' }], sim: { latencyMs: { min: 20, max: 40 } } });

let redis: AofRedis;
let db: TestDatabase;
let sim: SimulatorHandle;
let sys: System;
let worker: GenerationWorker;
let client: QuotaflowClient;

beforeAll(async () => {
  redis = await startAofRedis();
  db = await createTestDatabase();
  sim = await startSimulator(cfg.sim, { port: 0 });
  const config = parseConfig({ REDIS_URL: redis.url, DATABASE_URL: db.url, GEMINI_BASE_URL: sim.url, QUOTAFLOW_SECRET: randomBytes(32).toString('hex'), QUOTAFLOW_PREFIX: testPrefix('worker-errors') });
  sys = await openSystem(config, createLogger({ level: 'silent' }));
  await sys.admin.applyFleet(parseFleet(cfg.fleet), { prune: false });
  worker = await startGenerationWorker(sys, {
    concurrency: 4,
    // a bug in the path: the upstream port promises never to throw
    wrapUpstream: (u) => ({
      generate: (c) => (c.request.contents === 'trigger a bug' ? Promise.reject(new TypeError("Cannot read properties of undefined (reading 'text')")) : u.generate(c)),
      generateStream: (c, onChunk) => u.generateStream(c, onChunk),
    }),
  });
  client = createClient({ redisUrl: redis.url, prefix: config.prefix });
});
afterAll(async () => {
  await client?.close();
  await worker?.close(1_000);
  await sys?.close();
  await sim?.close();
  await db?.drop();
  await redis?.destroy();
});

describe('worker failures by kind', () => {
  it('a TypeError in the job path fails the job at once with internal, and others are still served', async () => {
    // a deadline far beyond the test's timeout: were the bug retried, the job could only end by timing out
    const err = await client.generate({ tenantId: 'acme', contents: 'trigger a bug', deadlineMs: 3_600_000 }, { timeoutMs: 30_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GenerationFailedError);
    expect((err as GenerationFailedError).reason).toBe('internal');
    expect((err as GenerationFailedError).message).not.toContain('Cannot read properties');
    expect((await client.generate({ tenantId: 'acme', contents: 'hello' }, { timeoutMs: 30_000 })).model).toBe(FLASH);
  });

  it('Redis stopped for a moment: jobs wait and complete', async () => {
    const ids = await Promise.all(Array.from({ length: 12 }, (_, i) => client.enqueue({ tenantId: 'acme', contents: `through an outage ${i}`, deadlineMs: 600_000 })));
    await redis.restart(1_500);
    const results = await Promise.all(ids.map(({ jobId }) => client.wait(jobId, { timeoutMs: 60_000 })));
    expect(results.map((r) => r.model)).toEqual(ids.map(() => FLASH));
  });
});
