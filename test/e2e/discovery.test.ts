import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSimulatorConfig } from '../../src/simulator/index.js';
import { startStack, type Stack } from '../helpers/stack.js';

/**
 * A model no catalog layer knows starts at the safe floor (5 requests per
 * window); quotaflow raises the admitted rate while calls succeed near it,
 * until a 429 naming the limit sets it exactly. Time is compressed: a 5 s
 * window on both sides, an upstream limit of 60 per window.
 */
const MODEL = 'gemini-x-experimental';
const WINDOW_MS = 5_000;
const LIMIT = 60;
const sim = parseSimulatorConfig({
  windowMs: WINDOW_MS,
  latencyMs: { min: 5, max: 15 },
  models: { [MODEL]: { rpm: LIMIT, tpm: 100_000_000, rpd: 1_000_000 } },
  projects: [{ id: 'p1', tier: 'tier1', keys: [{ secret: 'sk-discovery-test-0001', label: 'k1' }] }],
});
const fleet = { models: [MODEL], projects: [{ id: 'p1', tier: 'tier1' }], tenants: [{ id: 'acme' }], keys: [{ id: 'k1', tenant: null, project: 'p1', secret: 'sk-discovery-test-0001' }] };

let stack: Stack;
type Scope = { projectId: string; model: string; rpm: { limit: number; source: string } };

beforeAll(async () => {
  stack = await startStack({ name: 'discovery', sim, env: { QUOTAFLOW_WINDOW_MS: String(WINDOW_MS) } });
  await stack.applyFleet(fleet);
  await stack.startWorker(['--concurrency', '16']);
});
afterAll(async () => {
  await stack?.stop();
});

describe('discovery of a limit nobody configured', () => {
  it('ramps from the floor to the real limit, set exactly by the first 429, then holds it', async () => {
    const before = JSON.parse((await stack.cli(['status', '--json'])).stdout) as { scopes: Scope[] };
    expect(before.scopes.find((s) => s.model === MODEL)?.rpm).toMatchObject({ limit: 5, source: 'default' });
    const jobs = await Promise.all(Array.from({ length: 300 }, (_, i) => stack.client.enqueue({ tenantId: 'acme', contents: `discover ${i}`, deadlineMs: 600_000 })));
    const results = await Promise.all(jobs.map((j) => stack.client.wait(j.jobId, { timeoutMs: 120_000 })));
    expect(results).toHaveLength(300);

    const calls = stack.sim.stats().calls.filter((c) => c.method === 'generateContent');
    const refused = calls.filter((c) => c.status === 429);
    // one 429 names the limit; only calls already in flight then (at most the worker's 16 slots) can meet another
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(refused.length).toBeLessThanOrEqual(16);
    const after = JSON.parse((await stack.cli(['status', '--json'])).stdout) as { scopes: Scope[] };
    expect(after.scopes.find((s) => s.model === MODEL)?.rpm).toMatchObject({ limit: LIMIT, source: 'discovered' });

    // once known, the admitted rate sits at the limit: every sliding window from the start of a burst of
    // admissions holds between 95 % and 100 % of it (never more: the window is exact)
    const ok = calls.filter((c) => c.status === 200).map((c) => c.at).sort((a, b) => a - b);
    const settledFrom = Math.max(...refused.map((c) => c.at)) + WINDOW_MS;
    const last = ok[ok.length - 1] ?? 0;
    const inWindow = (t: number): number => ok.filter((at) => at >= t && at < t + WINDOW_MS).length;
    const starts = ok.filter((at, i) => at >= settledFrom && at + WINDOW_MS <= last && (i === 0 || at - (ok[i - 1] ?? 0) > 1_000));
    expect(starts.length).toBeGreaterThanOrEqual(2);
    for (const t of starts) {
      expect(inWindow(t)).toBeLessThanOrEqual(LIMIT);
      expect(inWindow(t)).toBeGreaterThanOrEqual(Math.floor(LIMIT * 0.95));
    }
    expect(Math.max(...ok.filter((t) => t >= settledFrom).map(inWindow))).toBeLessThanOrEqual(LIMIT);
  }, 180_000);
});
