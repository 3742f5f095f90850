import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GenerationFailedError } from '../../src/adapters/queue/client.js';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { openSystem, type System } from '../../src/system.js';
import { matchedConfigs } from '../helpers/fleets.js';
import { startStack, type Stack } from '../helpers/stack.js';

/**
 * One tenant's project answering only 500s (its own key, its own project)
 * opens that project's breaker and no other: the other tenant's jobs, on
 * its own project, all complete, and its breaker stays closed.
 */
const FLASH = 'gemini-2.5-flash';
const LIM = { [FLASH]: { rpm: 1000, tpm: 10_000_000, rpd: 100_000 } };
const cfg = matchedConfigs({
  models: [FLASH],
  projects: { broken: LIM, fine: LIM },
  tenants: [{ id: 'hurt', keyMode: 'own-only' }, { id: 'well', keyMode: 'own-only' }],
  keys: [{ id: 'h1', tenant: 'hurt', project: 'broken' }, { id: 'w1', tenant: 'well', project: 'fine' }],
  sim: { faults: { rules: [{ project: 'broken', forceStatus: '500-internal' }] } },
});

let stack: Stack;
let sys: System;

const breakerOf = async (projectId: string) => (await sys.snapshot()).scopes.find((s) => s.projectId === projectId && s.model === FLASH)?.breaker;

beforeAll(async () => {
  stack = await startStack({ name: 'breaker-iso', sim: cfg.sim, env: { QUOTAFLOW_BREAKER_THRESHOLD: '3', QUOTAFLOW_BREAKER_OPEN_MS: '600000' } });
  await stack.applyFleet(cfg.fleet);
  await stack.startWorker(['--concurrency', '4']);
  sys = await openSystem(parseConfig({ ...stack.env, LOG_LEVEL: 'warn' }), createLogger({ level: 'warn' }));
}, 120_000);

afterAll(async () => {
  await sys?.close();
  await stack?.stop();
});

describe('a broken project of one tenant', () => {
  let hurt: unknown[] = [];
  let well: Array<{ text: string }> = [];

  beforeAll(async () => {
    // both tenants at once: the broken project's failures and retries run beside the healthy tenant's work
    const hurtRuns = Promise.all(Array.from({ length: 6 }, (_, i) => stack.client.generate({ tenantId: 'hurt', contents: `hurt ${i}`, deadlineMs: 15_000 }, { timeoutMs: 60_000 }).catch((e: unknown) => e)));
    const wellRuns = Promise.all(Array.from({ length: 20 }, (_, i) => stack.client.generate({ tenantId: 'well', contents: `well ${i}` }, { timeoutMs: 60_000 })));
    [hurt, well] = await Promise.all([hurtRuns, wellRuns]);
  }, 120_000);

  it('fails that tenant\'s jobs', () => {
    expect(hurt.every((e) => e instanceof GenerationFailedError)).toBe(true);
  });

  it('opens that project\'s breaker', async () => {
    expect((await breakerOf('broken'))?.state).toBe('open');
  });

  it('leaves the other tenant\'s project closed and its jobs all completed', async () => {
    expect(well).toHaveLength(20);
    expect(well.every((r) => r.text.length > 0)).toBe(true);
    const b = await breakerOf('fine');
    expect(b?.state).toBe('closed');
    expect(b?.fails).toBe(0);
    // nothing of the healthy tenant went to the broken project
    expect(stack.sim.stats().totals.filter((t) => t.project === 'fine').reduce((n, t) => n + t.requests, 0)).toBeGreaterThanOrEqual(20);
  });
});
