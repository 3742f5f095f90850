/**
 * The stand-in over raw HTTP: control plane, key sources, malformed input and
 * the CLI glue. No SDK here, so the wire format itself is what is checked.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseSimulatorConfig, runSimulateCommand, startSimulator, type SimulatorHandle, type SimulatorStats } from '../../src/simulator/index.js';

const doc = {
  projects: [{ id: 'proj-a', keys: [{ secret: 'k-a1', label: 'a-1' }, { secret: 'k-a2' }] }],
  models: { 'gemini-2.5-flash': { rpm: 100, tpm: 250_000, rpd: 250 } },
  latencyMs: { min: 1, max: 3 },
};
let sim: SimulatorHandle;

async function call(path: string, init: { method?: string; key?: string; body?: unknown; raw?: string } = {}): Promise<{ status: number; type: string; json: unknown; text: string }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (init.key !== undefined) headers['x-goog-api-key'] = init.key;
  const res = await fetch(`${sim.url}${path}`, {
    method: init.method ?? (init.body === undefined && init.raw === undefined ? 'GET' : 'POST'),
    headers,
    body: init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body)),
  });
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  return { status: res.status, type, json: type.includes('json') ? (JSON.parse(text) as unknown) : undefined, text };
}
const gen = { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] };

beforeAll(async () => {
  sim = await startSimulator(parseSimulatorConfig(doc));
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => sim.reset());

describe('Gemini wire format', () => {
  it('takes the key from the header or ?key=, and 403s without one', async () => {
    expect((await call('/v1beta/models/gemini-2.5-flash:generateContent', { key: 'k-a1', body: gen })).status).toBe(200);
    expect((await call('/v1beta/models/gemini-2.5-flash:generateContent?key=k-a2', { body: gen })).status).toBe(200);
    const none = await call('/v1beta/models/gemini-2.5-flash:generateContent', { body: gen });
    expect(none.status).toBe(403);
    expect(none.type).toContain('application/json');
    expect(none.json).toMatchObject({ error: { code: 403, status: 'PERMISSION_DENIED' } });
  });

  it('writes SSE events separated by CRLF CRLF', async () => {
    const res = await call('/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse', { key: 'k-a1', body: gen });
    expect(res.type).toContain('text/event-stream');
    const events = res.text.split('\r\n\r\n').filter(Boolean);
    expect(events.length).toBeGreaterThan(1);
    expect(events.every((e) => e.startsWith('data: {'))).toBe(true);
  });

  it('rejects malformed JSON and unknown paths with Google-style errors', async () => {
    const bad = await call('/v1beta/models/gemini-2.5-flash:generateContent', { key: 'k-a1', raw: '{nope' });
    expect(bad.json).toMatchObject({ error: { code: 400, status: 'INVALID_ARGUMENT' } });
    expect((await call('/v1beta/nothing', { key: 'k-a1' })).json).toMatchObject({ error: { code: 404, status: 'NOT_FOUND' } });
  });
});

describe('control plane', () => {
  it('reports calls by label with totals, and resets', async () => {
    await call('/v1beta/models/gemini-2.5-flash:generateContent', { key: 'k-a1', body: gen });
    await call('/v1beta/models/gemini-2.5-flash:generateContent', { key: 'k-a2', body: gen });
    await call('/v1beta/models', { key: 'k-a1' });
    const stats = (await call('/_sim/stats')).json as SimulatorStats;
    expect(stats.calls.map((c) => [c.seq, c.keyLabel, c.method, c.status, c.counted])).toEqual([
      [1, 'a-1', 'generateContent', 200, true],
      [2, 'proj-a#1', 'generateContent', 200, true],
      [3, 'a-1', 'models.list', 200, false],
    ]);
    expect(stats.totals).toEqual([{ project: 'proj-a', model: 'gemini-2.5-flash', requests: 2, promptTokens: 2, candidatesTokens: 14 }]);
    expect(JSON.stringify(stats)).not.toContain('k-a');
    expect(((await call('/_sim/stats?calls=1')).json as SimulatorStats).calls.map((c) => c.seq)).toEqual([3]);
    expect((await call('/_sim/reset', { method: 'POST' })).status).toBe(200);
    expect(sim.stats().totalCalls).toBe(0);
  });

  it('replaces faults, and refuses invalid ones with the reason', async () => {
    const bad = await call('/_sim/faults', { body: { rules: [{ p503: 3 }] } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.json)).toContain('rules.0.p503');
    expect((await call('/_sim/faults', { body: { rules: [{ forceStatus: '500-internal' }] } })).status).toBe(200);
    expect((await call('/v1beta/models/gemini-2.5-flash:generateContent', { key: 'k-a1', body: gen })).status).toBe(500);
    expect((await call('/_sim/faults', { body: { rules: [] } })).status).toBe(200);
    expect((await call('/v1beta/models/gemini-2.5-flash:generateContent', { key: 'k-a1', body: gen })).status).toBe(200);
  });

  it('updates invalid and forbidden keys at runtime', async () => {
    expect((await call('/_sim/keys', { body: { forbiddenKeys: ['k-a2'], invalidKeys: ['k-a1'] } })).status).toBe(200);
    expect((await call('/v1beta/models/gemini-2.5-flash', { key: 'k-a2' })).status).toBe(403);
    expect((await call('/v1beta/models/gemini-2.5-flash', { key: 'k-a1' })).status).toBe(400);
    expect((await call('/_sim/keys', { body: { forbiddenKeys: [], invalidKeys: [] } })).status).toBe(200);
    expect((await call('/v1beta/models/gemini-2.5-flash', { key: 'k-a2' })).status).toBe(200);
    expect((await call('/_sim/keys', { body: { forbiddenKeys: 'k-a2' } })).status).toBe(400);
  });
});

describe('runSimulateCommand', () => {
  it('loads the file, starts and prints the URL', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sim-cli-'));
    const file = join(dir, 'sim.json');
    await writeFile(file, JSON.stringify(doc));
    const lines: string[] = [];
    const started = await runSimulateCommand({ config: file, port: 0 }, (l) => lines.push(l));
    try {
      expect(lines[0]).toBe(`Gemini stand-in listening on ${started.url}`);
      expect(lines.join('\n')).not.toContain('k-a1');
      const res = await fetch(`${started.url}/_sim/health`);
      expect(await res.json()).toEqual({ ok: true });
    } finally {
      await started.close();
    }
  });
});
