import { describe, expect, it } from 'vitest';
import { parseSimulatorConfig } from '../../src/simulator/config.js';
import { SimulatorEngine, type SimReply, type SimRequest } from '../../src/simulator/engine.js';
import { route } from '../../src/simulator/server.js';

const T0 = Date.UTC(2025, 0, 15, 12, 0, 0);

function setup(extra: Record<string, unknown> = {}): { engine: SimulatorEngine; clock: { t: number } } {
  const config = parseSimulatorConfig({
    projects: [
      { id: 'proj-a', keys: [{ secret: 'k-a1', label: 'a-1' }, { secret: 'k-a2' }], limits: { pro: { rpm: 2 } } },
      { id: 'proj-b', tier: 'tier1', keys: [{ secret: 'k-b1', label: 'b-1' }] },
    ],
    models: { pro: { rpm: 5, tpm: 100, rpd: 3 }, flash: { rpm: 100, tpm: 100_000, rpd: 1000 } },
    invalidKeys: ['k-bad'],
    forbiddenKeys: ['k-leaked'],
    dayLengthMs: 86_400_000,
    ...extra,
  });
  const clock = { t: T0 };
  return { engine: new SimulatorEngine(config, () => clock.t), clock };
}

const gen = (apiKey: string | undefined, model: string, text = 'hello', method: SimRequest['method'] = 'generateContent'): SimRequest => ({
  method,
  model,
  apiKey,
  body: { contents: [{ role: 'user', parts: [{ text }] }] },
});

function status(r: SimReply): number {
  return r.kind === 'json' ? r.status : 200;
}
function errorText(r: SimReply): string {
  return r.kind === 'json' ? JSON.stringify(r.body) : '';
}

describe('SimulatorEngine limits', () => {
  it('two keys of one project share the (project, model) quota; another project does not', () => {
    const { engine } = setup();
    expect(status(engine.handle(gen('k-a1', 'pro')))).toBe(200);
    expect(status(engine.handle(gen('k-a2', 'pro')))).toBe(200);
    const third = engine.handle(gen('k-a1', 'pro'));
    expect(status(third)).toBe(429);
    expect(errorText(third)).toContain('GenerateRequestsPerMinutePerProjectPerModel-FreeTier');
    expect(errorText(third)).toContain('"quotaValue":"2"');
    expect(errorText(third)).toContain('"retryDelay":"60s"');
    expect(status(engine.handle(gen('k-b1', 'pro')))).toBe(200);
    expect(status(engine.handle(gen('k-a1', 'flash')))).toBe(200);
  });

  it('retryDelay is the time until the window frees, and the window frees then', () => {
    const { engine, clock } = setup();
    engine.handle(gen('k-a1', 'pro'));
    clock.t += 20_000;
    engine.handle(gen('k-a1', 'pro'));
    clock.t += 3_000;
    expect(errorText(engine.handle(gen('k-a1', 'pro')))).toContain('"retryDelay":"37s"');
    clock.t = T0 + 60_000;
    expect(status(engine.handle(gen('k-a1', 'pro')))).toBe(200);
  });

  it('TPM counts input tokens (ceil(chars/4) per part, system instruction included)', () => {
    const { engine } = setup();
    const body = {
      systemInstruction: { parts: [{ text: 'x'.repeat(9) }] }, // 3
      contents: [{ role: 'user', parts: [{ text: 'y'.repeat(200) }, { text: 'z' }] }], // 50 + 1
    };
    const count = engine.handle({ method: 'countTokens', model: 'pro', apiKey: 'k-b1', body });
    expect(count.kind === 'json' && count.body).toMatchObject({ totalTokens: 54 });
    expect(status(engine.handle({ method: 'generateContent', model: 'pro', apiKey: 'k-b1', body }))).toBe(200);
    const over = engine.handle({ method: 'generateContent', model: 'pro', apiKey: 'k-b1', body });
    expect(status(over)).toBe(429);
    // tier1 project: no FreeTier suffix.
    expect(errorText(over)).toContain('"quotaId":"GenerateContentInputTokensPerModelPerMinute"');
    expect(engine.stats().totals).toEqual([{ project: 'proj-b', model: 'pro', requests: 1, promptTokens: 54, candidatesTokens: expect.any(Number) }]);
  });

  it('RPD is per day and rejected calls do not count', () => {
    const { engine, clock } = setup();
    for (let i = 0; i < 3; i++) {
      clock.t += 61_000;
      expect(status(engine.handle(gen('k-b1', 'pro')))).toBe(200);
    }
    clock.t += 61_000;
    const perDay = engine.handle(gen('k-b1', 'pro'));
    expect(errorText(perDay)).toContain('GenerateRequestsPerDayPerProjectPerModel');
    expect(status(engine.handle(gen('k-b1', 'pro')))).toBe(429);
    expect(engine.stats().totals[0]?.requests).toBe(3);
    clock.t = Math.ceil(clock.t / 86_400_000) * 86_400_000; // next fixed-length day
    expect(status(engine.handle(gen('k-b1', 'pro')))).toBe(200);
  });
});

describe('SimulatorEngine keys, models and markers', () => {
  it('answers key errors like Google and never spends quota on them', () => {
    const { engine } = setup();
    expect(status(engine.handle(gen(undefined, 'pro')))).toBe(403);
    expect(errorText(engine.handle(gen(undefined, 'pro')))).toContain('unregistered callers');
    expect(errorText(engine.handle(gen('k-bad', 'pro')))).toContain('API_KEY_INVALID');
    expect(errorText(engine.handle(gen('k-unknown', 'pro')))).toContain('API_KEY_INVALID');
    expect(errorText(engine.handle(gen('k-leaked', 'pro')))).toContain('reported as leaked');
    expect(status(engine.handle({ method: 'models.get', model: 'pro', apiKey: 'k-leaked', body: undefined }))).toBe(403);
    expect(engine.stats().totals).toEqual([]);
  });

  it('key lists change at runtime and stats show labels, never secrets', () => {
    const { engine } = setup();
    engine.setKeyLists({ forbiddenKeys: ['k-a2'] });
    expect(status(engine.handle(gen('k-a2', 'flash')))).toBe(403);
    expect(status(engine.handle(gen('k-leaked', 'flash')))).toBe(400); // no longer forbidden; unknown key
    engine.handle(gen('k-a1', 'flash'));
    const stats = engine.stats();
    expect(stats.calls.map((c) => c.keyLabel)).toEqual(['proj-a#1', '(unknown)', 'a-1']);
    expect(JSON.stringify(stats)).not.toMatch(/k-a1|k-a2|k-leaked/);
  });

  it('404s unknown models; get, list and countTokens spend nothing', () => {
    const { engine } = setup();
    expect(errorText(engine.handle(gen('k-a1', 'gemini-pro')))).toContain('models/gemini-pro is not found');
    const list = engine.handle({ method: 'models.list', model: null, apiKey: 'k-a1', body: undefined });
    expect(list.kind === 'json' && list.body).toMatchObject({ models: [{ name: 'models/pro' }, { name: 'models/flash' }] });
    for (let i = 0; i < 5; i++) engine.handle({ method: 'countTokens', model: 'pro', apiKey: 'k-a1', body: { contents: [] } });
    expect(status(engine.handle({ method: 'models.get', model: 'pro', apiKey: 'k-a1', body: undefined }))).toBe(200);
    expect(status(engine.handle(gen('k-a1', 'pro')))).toBe(200);
    expect(engine.stats().calls.filter((c) => c.counted)).toHaveLength(1);
  });

  it('bad-request marker answers 400 uncounted; safety marker answers 200 blocked', () => {
    const { engine } = setup();
    const bad = engine.handle(gen('k-a1', 'pro', 'x [[simulate:bad-request]]'));
    expect(status(bad)).toBe(400);
    expect(errorText(bad)).toContain('INVALID_ARGUMENT');
    expect(errorText(bad)).not.toContain('API_KEY_INVALID');
    const safe = engine.handle(gen('k-a1', 'pro', '[[simulate:safety]]'));
    expect(safe.kind === 'json' && safe.body).toMatchObject({ promptFeedback: { blockReason: 'SAFETY' } });
    expect(safe.kind === 'json' && (safe.body as Record<string, unknown>)['candidates']).toBeUndefined();
    expect(engine.stats().totals[0]?.requests).toBe(1);
  });

  it('answers deterministically and honours maxOutputTokens', () => {
    const { engine } = setup();
    const r = engine.handle({
      method: 'generateContent',
      model: 'flash',
      apiKey: 'k-a1',
      body: { contents: [{ role: 'user', parts: [{ text: 'hi there' }] }], generationConfig: { maxOutputTokens: 2 } },
    });
    expect(r.kind === 'json' && r.body).toMatchObject({
      candidates: [{ content: { parts: [{ text: '[flash] ' }], role: 'model' }, finishReason: 'MAX_TOKENS' }],
      usageMetadata: { promptTokenCount: 2, candidatesTokenCount: 2, totalTokenCount: 4 },
    });
  });

  it('streams cumulative usage with totals in the last chunk', () => {
    const { engine } = setup();
    const r = engine.handle(gen('k-a1', 'flash', 'stream me', 'streamGenerateContent'));
    if (r.kind !== 'stream') throw new Error('expected a stream');
    expect(r.chunks.length).toBeGreaterThan(1);
    const counts = r.chunks.map((c) => (c as { usageMetadata: { candidatesTokenCount: number } }).usageMetadata.candidatesTokenCount);
    expect([...counts].sort((a, b) => a - b)).toEqual(counts);
    expect(counts.at(-1)).toBe(engine.stats().totals[0]?.candidatesTokens);
  });
});

describe('SimulatorEngine faults', () => {
  it('injected 5xx count toward quota; 429 without details does not', () => {
    const { engine } = setup();
    engine.setFaults({ rules: [{ model: 'pro', forceStatus: '503-overloaded' }] });
    expect(status(engine.handle(gen('k-a1', 'pro')))).toBe(503);
    expect(status(engine.handle(gen('k-a1', 'pro')))).toBe(503);
    expect(status(engine.handle(gen('k-a1', 'pro')))).toBe(429); // rpm 2 spent by the two 503s
    engine.setFaults({ rules: [{ model: 'flash', p429: 1 }] });
    expect(errorText(engine.handle(gen('k-a1', 'flash')))).toBe(
      '{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED"}}',
    );
    const counted = engine.stats().calls.map((c) => [c.status, c.counted]);
    expect(counted).toEqual([[503, true], [503, true], [429, false], [429, false]]);
  });

  it('the first matching rule wins, and randomness replays from the seed', () => {
    const statuses = (): number[] => {
      const { engine } = setup({ seed: 7, faults: { rules: [{ project: 'proj-b', p500: 0 }, { p503: 0.5, p500: 0.5 }] } });
      const out: number[] = [];
      for (let i = 0; i < 40; i++) out.push(status(engine.handle(gen(i % 2 ? 'k-b1' : 'k-a1', 'flash'))));
      return out;
    };
    const first = statuses();
    expect(statuses()).toEqual(first);
    expect(first.filter((_, i) => i % 2 === 1).every((s) => s === 200)).toBe(true);
    const a = first.filter((_, i) => i % 2 === 0);
    expect(a).toContain(503);
    expect(a.some((s) => s !== 503)).toBe(true);
  });

  it('caps the call log but keeps totals counting', () => {
    const { engine } = setup({ maxCallLog: 3 });
    for (let i = 0; i < 10; i++) engine.handle(gen('k-a1', 'flash'));
    const stats = engine.stats();
    expect(stats.calls.map((c) => c.seq)).toEqual([8, 9, 10]);
    expect(stats.droppedCalls).toBe(7);
    expect(stats.totals[0]?.requests).toBe(10);
    engine.reset();
    expect(engine.stats()).toMatchObject({ totalCalls: 0, calls: [], totals: [] });
  });
});

describe('route', () => {
  it('maps SDK paths to calls', () => {
    expect(route('POST', '/v1beta/models/gemini-2.5-pro:generateContent')).toEqual({ kind: 'gemini', method: 'generateContent', model: 'gemini-2.5-pro' });
    expect(route('POST', '/v1beta/models/m:streamGenerateContent')).toMatchObject({ method: 'streamGenerateContent' });
    expect(route('POST', '/v1beta/models/m:countTokens')).toMatchObject({ method: 'countTokens' });
    expect(route('GET', '/v1beta/models/m')).toEqual({ kind: 'gemini', method: 'models.get', model: 'm' });
    expect(route('GET', '/v1beta/models')).toEqual({ kind: 'gemini', method: 'models.list', model: null });
    expect(route('GET', '/v1beta/models/m:generateContent')).toEqual({ kind: 'none' });
    expect(route('POST', '/v1beta/models/m:embedContent')).toEqual({ kind: 'none' });
    expect(route('GET', '/_sim/stats')).toEqual({ kind: 'control' });
    expect(route('GET', '/v1beta/models/%E0%A4%A')).toEqual({ kind: 'none' });
  });
});
