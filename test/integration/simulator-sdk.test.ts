/**
 * The stand-in's newer surface through the real @google/genai SDK and raw
 * HTTP: multimodal function calling, timed streams, mid-stream failures, the
 * JSON-array stream form, recorded bodies and runtime limits.
 */
import { performance } from 'node:perf_hooks';
import { ApiError, createPartFromBase64, createPartFromFunctionResponse, GoogleGenAI, Type, type Content } from '@google/genai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseSimulatorConfig, startSimulator, type SimulatorHandle } from '../../src/simulator/index.js';

const STREAM = { chunkChars: 8, firstChunkDelayMs: 40, chunkIntervalMs: 120 };
const config = parseSimulatorConfig({
  projects: [{ id: 'proj-a', keys: [{ secret: 'k-sdk', label: 'sdk' }] }],
  models: {
    'gemini-2.5-flash': { rpm: 1000, tpm: 1_000_000, rpd: 10_000 },
    'gemini-2.5-pro': { rpm: 1000, tpm: 1_000_000, rpd: 10_000 },
  },
  recordBodies: true,
  stream: STREAM,
});

let sim: SimulatorHandle;
const written = new Map<string, number[]>();
/** the chunk bodies the hook was handed, per response */
const bodies = new Map<string, unknown[]>();
const ai = (): GoogleGenAI => new GoogleGenAI({ apiKey: 'k-sdk', httpOptions: { baseUrl: sim.url, retryOptions: { attempts: 1 } } });
const IMAGE = Buffer.alloc(2_000, 1).toString('base64');

beforeAll(async () => {
  sim = await startSimulator(config, {
    onChunkWritten: (responseId, index, chunk) => {
      const times = written.get(responseId) ?? [];
      times[index] = performance.now();
      written.set(responseId, times);
      const sent = bodies.get(responseId) ?? [];
      sent[index] = chunk;
      bodies.set(responseId, sent);
    },
  });
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => {
  sim.reset();
  sim.setFaults({ rules: [] });
  written.clear();
  bodies.clear();
});

const weather = {
  functionDeclarations: [
    {
      name: 'get_weather',
      description: 'Weather for a city',
      parameters: { type: Type.OBJECT, properties: { city: { type: Type.STRING }, unit: { type: Type.STRING, enum: ['celsius', 'fahrenheit'] } }, required: ['city'] },
    },
  ],
};

describe('function calling with an image, through the SDK', () => {
  it('answers a functionCall, then text about the result; the thought signature travels back unchanged', async () => {
    const question: Content = { role: 'user', parts: [{ text: 'What is the weather where this photo was taken?' }, createPartFromBase64(IMAGE, 'image/jpeg')] };
    const first = await ai().models.generateContent({ model: 'gemini-2.5-flash', contents: [question], config: { tools: [weather] } });
    const call = first.functionCalls?.[0];
    expect(call).toMatchObject({ name: 'get_weather', args: { city: expect.any(String), unit: 'celsius' }, id: expect.any(String) });
    const modelTurn = first.candidates?.[0]?.content;
    const signature = modelTurn?.parts?.[0]?.thoughtSignature;
    expect(signature).toMatch(/^[A-Za-z0-9+/]+=*$/);
    const promptTokens = first.usageMetadata?.promptTokenCount ?? 0;
    expect(first.usageMetadata?.promptTokensDetails).toContainEqual({ modality: 'IMAGE', tokenCount: 258 });
    expect(promptTokens).toBeGreaterThan(258 + 12);

    const answer = { role: 'user', parts: [createPartFromFunctionResponse(call?.id ?? '', 'get_weather', { tempC: 18, sky: 'overcast' })] };
    const second = await ai().models.generateContent({ model: 'gemini-2.5-flash', contents: [question, modelTurn ?? {}, answer], config: { tools: [weather] } });
    expect(second.text).toContain('get_weather');
    expect(second.text).toContain('overcast');

    const bodies = sim.calls({ withBodies: true }).map((c) => c.body);
    expect(bodies).toHaveLength(2);
    expect(bodies[1]).toMatchObject({ contents: [{}, { role: 'model', parts: [{ thoughtSignature: signature, functionCall: { name: 'get_weather' } }] }, {}] });
    expect(bodies[0]).toMatchObject({ tools: [{ functionDeclarations: [{ name: 'get_weather' }] }] });
  });
});

describe('streaming through the SDK', () => {
  it('delivers several chunks, the first before the last one is even written', async () => {
    const received: number[] = [];
    const texts: string[] = [];
    let responseId = '';
    for await (const chunk of await ai().models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'tell me about streams' })) {
      received.push(performance.now());
      texts.push(chunk.text ?? '');
      responseId = chunk.responseId ?? '';
    }
    const writes = written.get(responseId) ?? [];
    expect(texts.join('')).toBe('[gemini-2.5-flash] echo: tell me about streams');
    expect(received.length).toBeGreaterThanOrEqual(3);
    expect(writes).toHaveLength(received.length);
    // the hook is handed each chunk it reports: together they are the answer the client read
    const sentText = (bodies.get(responseId) ?? []).map((b) => (b as { candidates: Array<{ content: { parts: Array<{ text?: string }> } }> }).candidates[0]?.content.parts.map((p) => p.text ?? '').join('') ?? '');
    expect(sentText).toEqual(texts);
    // The first chunk was in the client's hands while the last did not exist yet.
    expect(received[0]).toBeLessThan(writes.at(-1) ?? 0);
    // Writes are spaced by the configured interval (timers), not sent in one go.
    for (let i = 1; i < writes.length; i++) expect((writes[i] ?? 0) - (writes[i - 1] ?? 0)).toBeGreaterThanOrEqual(STREAM.chunkIntervalMs - 2);
  });

  it('a mid-stream error event: the iterator yields k chunks, then throws ApiError with the event status', async () => {
    sim.setFaults({ rules: [{ midStream: { afterChunks: 2, status: 503 } }] });
    const chunks: string[] = [];
    let thrown: unknown;
    try {
      for await (const chunk of await ai().models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'a prompt long enough for many chunks' })) chunks.push(chunk.text ?? '');
    } catch (err) {
      thrown = err;
    }
    expect(chunks).toEqual(['[gemini-', '2.5-flas']);
    expect(thrown).toBeInstanceOf(ApiError);
    expect(thrown).toMatchObject({ status: 503 });
    const message = thrown instanceof Error ? thrown.message : '';
    expect(message).toMatch(/^got status: UNAVAILABLE\. /);
    expect(JSON.parse(message.slice(message.indexOf('{')))).toEqual({ error: { code: 503, message: 'The model is overloaded. Please try again later.', status: 'UNAVAILABLE' } });
    expect(sim.stats().calls[0]).toMatchObject({ status: 503, counted: true, midStream: true });
    expect(sim.stats().totals[0]?.requests).toBe(1);
  });

  it('a dropped connection mid-stream: k chunks, then a network error that is not an ApiError', async () => {
    sim.setFaults({ rules: [{ midStream: { afterChunks: 1, how: 'disconnect' } }] });
    const chunks: string[] = [];
    let thrown: unknown;
    try {
      for await (const chunk of await ai().models.generateContentStream({ model: 'gemini-2.5-pro', contents: 'cut me off' })) chunks.push(chunk.text ?? '');
    } catch (err) {
      thrown = err;
    }
    expect(chunks).toEqual(['[gemini-']);
    expect(thrown).toBeInstanceOf(TypeError);
    expect(thrown).not.toBeInstanceOf(ApiError);
    expect(thrown instanceof Error ? thrown.message : '').toBe('terminated');
  });
});

describe('raw HTTP streams and the control plane', () => {
  const streamUrl = (alt: boolean): string => `${sim.url}/v1beta/models/gemini-2.5-flash:streamGenerateContent${alt ? '?alt=sse' : ''}`;
  const post = (url: string, body: unknown, signal?: AbortSignal): Promise<Response> =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-goog-api-key': 'k-sdk' }, body: JSON.stringify(body), ...(signal ? { signal } : {}) });
  const prompt = { contents: [{ role: 'user', parts: [{ text: 'json array please' }] }] };

  it('without alt=sse answers the JSON-array form with the same chunks', async () => {
    const res = await post(streamUrl(false), prompt);
    expect(res.headers.get('content-type')).toContain('application/json');
    const chunks = (await res.json()) as Array<{ candidates: Array<{ content: { parts: Array<{ text: string }> } }> }>;
    expect(chunks.length).toBeGreaterThanOrEqual(3);
    expect(chunks.map((c) => c.candidates[0]?.content.parts[0]?.text).join('')).toBe('[gemini-2.5-flash] echo: json array please');
  });

  it('a client that aborts stops the stream timers', async () => {
    const controller = new AbortController();
    const res = await post(streamUrl(true), prompt, controller.signal);
    const reader = res.body?.getReader();
    await reader?.read();
    controller.abort();
    const responseId = [...written.keys()][0] ?? '';
    const planned = Math.ceil('[gemini-2.5-flash] echo: json array please'.length / STREAM.chunkChars);
    await new Promise((r) => setTimeout(r, STREAM.chunkIntervalMs * (planned + 1)));
    expect(written.get(responseId)?.length).toBeLessThan(planned);
  });

  it('GET /_sim/calls?withBodies=1 returns the exact bodies; POST /_sim/limits changes limits at once', async () => {
    await post(`${sim.url}/v1beta/models/gemini-2.5-flash:generateContent`, prompt);
    const calls = (await (await fetch(`${sim.url}/_sim/calls?withBodies=1`)).json()) as { totalCalls: number; calls: Array<{ body?: unknown }> };
    expect(calls.totalCalls).toBe(1);
    expect(calls.calls[0]?.body).toEqual(prompt);
    const plain = (await (await fetch(`${sim.url}/_sim/calls`)).json()) as { calls: Array<{ body?: unknown }> };
    expect(plain.calls[0]).not.toHaveProperty('body');

    const change = await post(`${sim.url}/_sim/limits`, { project: 'proj-a', model: 'gemini-2.5-flash', limits: { rpm: 1 } });
    expect(await change.json()).toEqual({ ok: true, project: 'proj-a', model: 'gemini-2.5-flash', limits: { rpm: 1, tpm: 1_000_000, rpd: 10_000 } });
    const limited = await post(`${sim.url}/v1beta/models/gemini-2.5-flash:generateContent`, prompt);
    expect(limited.status).toBe(429);
    expect(JSON.stringify(await limited.json())).toContain('"quotaValue":"1"');
    const read = await fetch(`${sim.url}/_sim/limits?project=proj-a&model=gemini-2.5-flash`);
    expect(await read.json()).toMatchObject({ limits: { rpm: 1 } });
    expect((await post(`${sim.url}/_sim/limits`, { project: 'proj-a', model: 'nope', limits: { rpm: 'many' } })).status).toBe(400);
    sim.setLimits('proj-a', 'gemini-2.5-flash', { rpm: 1000 });
  });
});
