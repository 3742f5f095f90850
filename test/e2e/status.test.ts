import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matchedConfigs } from '../helpers/fleets.js';
import { startStack, type Stack } from '../helpers/stack.js';

/** `quotaflow status`: workers, the queue and why jobs wait, breakers, hints; a clear error when Redis does not answer. */
const FLASH = 'gemini-2.5-flash';
const cfg = matchedConfigs({ models: [FLASH], projects: { p1: { [FLASH]: { rpm: 1, tpm: 1_000_000, rpd: 1000 } } }, tenants: [{ id: 'acme' }], keys: [{ id: 'k1', tenant: null, project: 'p1' }] });

let stack: Stack;
type Status = { workers: Array<{ id: string; concurrency: number }>; queue: { counts: Record<string, number>; delayedBy: Record<string, number> }; hints: string[]; keys: unknown[] };
const status = async (): Promise<Status> => {
  const r = await stack.cli(['status', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Status;
};

beforeAll(async () => {
  stack = await startStack({ name: 'status', sim: cfg.sim });
});
afterAll(async () => {
  await stack?.stop();
});

describe('quotaflow status', () => {
  it('before anything: hints to apply a fleet and start a worker', async () => {
    const s = await status();
    expect(s.keys).toHaveLength(0);
    expect(s.workers).toHaveLength(0);
    expect(s.hints.join('\n')).toMatch(/quotaflow apply -f/);
    expect(s.hints.join('\n')).toMatch(/no worker is running/);
  });

  it('shows the live workers and why delayed jobs wait', async () => {
    await stack.applyFleet(cfg.fleet);
    await stack.startWorker(['--concurrency', '3']);
    // rpm 1: the first job is served, the others wait for the window
    const ids = await Promise.all([0, 1, 2].map((i) => stack.client.enqueue({ tenantId: 'acme', contents: `wait ${i}`, deadlineMs: 300_000 })));
    await stack.client.wait(ids[0]?.jobId ?? '', { timeoutMs: 30_000 }).catch(() => undefined);
    let s = await status();
    for (let i = 0; i < 50 && (s.queue.counts.delayed ?? 0) < 2; i++) {
      await new Promise((r) => setTimeout(r, 200));
      s = await status();
    }
    expect(s.workers).toHaveLength(1);
    expect(s.workers[0]?.concurrency).toBe(3);
    expect(s.queue.counts.delayed).toBeGreaterThanOrEqual(2);
    expect(s.queue.delayedBy.window).toBeGreaterThanOrEqual(2);
    expect(s.hints.join('\n')).not.toMatch(/no worker is running/);
  });

  it('answers with an error naming Redis when Redis does not answer', async () => {
    const r = await stack.cli(['status'], { REDIS_URL: 'redis://127.0.0.1:1' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Redis at redis:\/\/127\.0\.0\.1:1\/? was not ready/);
  });
});
