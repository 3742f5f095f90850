import { GEMINI_ERRORS_DIR } from '../helpers/fixtures.js';
/**
 * The stand-in seen through the real @google/genai SDK: what quotaflow's
 * Gemini adapter will see from Google. Time is a fake clock, so nothing here
 * depends on the wall clock.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiError, GoogleGenAI } from '@google/genai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseSimulatorConfig, startSimulator, type FaultConfig, type SimulatorHandle } from '../../src/simulator/index.js';

const fixturesDir = (): string => GEMINI_ERRORS_DIR;
interface ErrorJson {
  error: { code: number; status: string; message: string; details?: { '@type': string; [k: string]: unknown }[] };
}
const fixture = (name: string): ErrorJson => JSON.parse(readFileSync(join(fixturesDir(), name), 'utf8')) as ErrorJson;
const types = (e: ErrorJson): string[] => (e.error.details ?? []).map((d) => d['@type']).sort();

const config = parseSimulatorConfig({
  projects: [
    { id: 'proj-a', keys: [{ secret: 'k-a1', label: 'a-1' }, { secret: 'k-a2', label: 'a-2' }] },
    { id: 'proj-day', keys: [{ secret: 'k-day', label: 'day' }], limits: { 'gemini-2.5-flash': { rpd: 2 } } },
    { id: 'proj-tpm', keys: [{ secret: 'k-tpm', label: 'tpm' }], limits: { 'gemini-2.5-flash': { tpm: 50 } } },
  ],
  models: {
    'gemini-2.5-pro': { rpm: 2, tpm: 250_000, rpd: 100 },
    'gemini-2.5-flash': { rpm: 100, tpm: 250_000, rpd: 250 },
    'gemini-2.5-flash-lite': { rpm: 1000, tpm: 1_000_000, rpd: 10_000 },
  },
  dayLengthMs: null,
  invalidKeys: ['k-bad'],
  forbiddenKeys: ['k-leaked'],
});

const clock = { t: Date.UTC(2025, 5, 1, 19, 0, 0) };
let sim: SimulatorHandle;
const client = (apiKey: string): GoogleGenAI =>
  new GoogleGenAI({ apiKey, httpOptions: { baseUrl: sim.url, retryOptions: { attempts: 1 } } });

/** Runs `call`, expects an ApiError, and returns its status and the body JSON carried in its message. */
async function apiError(call: () => Promise<unknown>): Promise<{ status: number; json: ErrorJson }> {
  try {
    await call();
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    const e = err as ApiError;
    return { status: e.status, json: JSON.parse(e.message.slice(e.message.indexOf('{'))) as ErrorJson };
  }
  throw new Error('expected the SDK to throw');
}

function expectLike(got: { status: number; json: ErrorJson }, file: string): void {
  const want = fixture(file);
  expect(got.status).toBe(want.error.code);
  expect(got.json.error.code).toBe(want.error.code);
  expect(got.json.error.status).toBe(want.error.status);
  expect(types(got.json)).toEqual(types(want));
}

beforeAll(async () => {
  sim = await startSimulator(config, { port: 0, now: () => clock.t });
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => {
  sim.reset();
  sim.setFaults({ rules: [] });
});

describe('success paths through the SDK', () => {
  it('generates text with usageMetadata', async () => {
    const res = await client('k-a1').models.generateContent({ model: 'gemini-2.5-flash', contents: 'hello there', config: { systemInstruction: 'be brief' } });
    expect(res.text).toBe('[gemini-2.5-flash] echo: hello there');
    expect(res.usageMetadata).toMatchObject({ promptTokenCount: 5, candidatesTokenCount: 9, totalTokenCount: 14 });
    expect(sim.stats().calls).toMatchObject([{ keyLabel: 'a-1', project: 'proj-a', status: 200, counted: true, promptTokens: 5 }]);
  });

  it('streams several chunks whose last one holds the totals', async () => {
    const chunks = [];
    for await (const c of await client('k-a1').models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'stream please' })) chunks.push(c);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.map((c) => c.text).join('')).toBe('[gemini-2.5-flash] echo: stream please');
    const last = chunks.at(-1);
    expect(last?.candidates?.[0]?.finishReason).toBe('STOP');
    expect(last?.usageMetadata).toMatchObject({ promptTokenCount: 4, candidatesTokenCount: 10, totalTokenCount: 14 });
  });

  it('counts tokens and gets models without spending quota', async () => {
    const ai = client('k-a1');
    const count = await ai.models.countTokens({ model: 'gemini-2.5-pro', contents: 'abcdefghi' });
    expect(count.totalTokens).toBe(3);
    const model = await ai.models.get({ model: 'gemini-2.5-pro' });
    expect(model.name).toBe('models/gemini-2.5-pro');
    const names: string[] = [];
    for await (const m of await ai.models.list()) names.push(m.name ?? '');
    expect(names).toEqual(['models/gemini-2.5-pro', 'models/gemini-2.5-flash', 'models/gemini-2.5-flash-lite']);
    expect(sim.stats().totals).toEqual([]);
  });
});

describe('every fixture kind through the SDK', () => {
  it('429 per-minute when two keys of one project exceed the shared rpm', async () => {
    await client('k-a1').models.generateContent({ model: 'gemini-2.5-pro', contents: 'one' });
    clock.t += 23_000;
    await client('k-a2').models.generateContent({ model: 'gemini-2.5-pro', contents: 'two' });
    const got = await apiError(() => client('k-a1').models.generateContent({ model: 'gemini-2.5-pro', contents: 'three' }));
    expectLike(got, '429-tpm-per-minute.json');
    const failure = got.json.error.details?.find((d) => d['@type'].endsWith('QuotaFailure'));
    expect(JSON.stringify(failure)).toContain('"quotaId":"GenerateRequestsPerMinutePerProjectPerModel-FreeTier"');
    expect(JSON.stringify(failure)).toContain('"quotaValue":"2"');
    expect(got.json.error.details).toContainEqual({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '37s' });
  });

  it('429 per-minute on TPM (input tokens)', async () => {
    const got = await apiError(() => client('k-tpm').models.generateContent({ model: 'gemini-2.5-flash', contents: 'x'.repeat(400) }));
    expectLike(got, '429-tpm-per-minute.json');
    expect(JSON.stringify(got.json)).toContain('GenerateContentInputTokensPerModelPerMinute-FreeTier');
  });

  it('429 per-day when rpd is spent, and service again the next Pacific day', async () => {
    const ai = client('k-day');
    await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'a' });
    await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'b' });
    const got = await apiError(() => ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'c' }));
    expectLike(got, '429-rpd-per-day.json');
    expect(JSON.stringify(got.json)).toContain('PerDay');
    // Streaming meets the same error before any chunk.
    expectLike(await apiError(() => ai.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'c' })), '429-rpd-per-day.json');
    clock.t += 24 * 3_600_000;
    expect((await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'd' })).text).toContain('echo: d');
  });

  it.each([
    ['429-no-details', '429-no-details.json'],
    ['503-overloaded', '503-overloaded.json'],
    ['503-high-demand', '503-high-demand.json'],
    ['500-internal', '500-internal.json'],
  ] as const)('%s (forced fault)', async (kind, file) => {
    const faults: FaultConfig = { rules: [{ model: 'gemini-2.5-flash-lite', forceStatus: kind }] };
    sim.setFaults(faults);
    const got = await apiError(() => client('k-a1').models.generateContent({ model: 'gemini-2.5-flash-lite', contents: 'x' }));
    expectLike(got, file);
    expect(got.json.error.message).toBe(fixture(file).error.message);
  });

  it('400 for an invalid key and for a key the config does not know', async () => {
    expectLike(await apiError(() => client('k-bad').models.generateContent({ model: 'gemini-2.5-pro', contents: 'x' })), '400-api-key-invalid.json');
    const unknown = await apiError(() => client('k-nobody').models.get({ model: 'gemini-2.5-pro' }));
    expectLike(unknown, '400-api-key-invalid.json');
    expect(JSON.stringify(unknown.json)).toContain('API_KEY_INVALID');
  });

  it('403 for a forbidden key, also on models.get (health checks)', async () => {
    expectLike(await apiError(() => client('k-leaked').models.generateContent({ model: 'gemini-2.5-pro', contents: 'x' })), '403-key-leaked.json');
    expectLike(await apiError(() => client('k-leaked').models.get({ model: 'gemini-2.5-pro' })), '403-key-leaked.json');
  });

  it('404 for a model that does not exist', async () => {
    const got = await apiError(() => client('k-a1').models.generateContent({ model: 'gemini-pro', contents: 'x' }));
    expectLike(got, '404-model-not-found.json');
    expect(got.json.error.message).toBe(fixture('404-model-not-found.json').error.message);
  });

  it('400 INVALID_ARGUMENT (not key related) and a safety block from prompt markers', async () => {
    const ai = client('k-a1');
    const bad = await apiError(() => ai.models.generateContent({ model: 'gemini-2.5-flash', contents: '[[simulate:bad-request]]' }));
    expect(bad.status).toBe(400);
    expect(bad.json.error.status).toBe('INVALID_ARGUMENT');
    expect(bad.json.error.details).toBeUndefined();
    const blocked = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: '[[simulate:safety]]' });
    expect(blocked.promptFeedback?.blockReason).toBe('SAFETY');
    expect(blocked.candidates).toBeUndefined();
  });
});
