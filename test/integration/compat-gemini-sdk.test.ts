/**
 * The Gemini-native endpoints driven by the real @google/genai SDK, pointed
 * at quotaflow with a tenant token as its API key.
 */
import { ApiError, GoogleGenAI, type Content, type GenerateContentResponse } from '@google/genai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { estimateInputTokens } from '../../src/core/tokens.js';
import { CHAINS, TOKENS, startCompatServer, type CompatServer } from '../helpers/compat-server.js';

let server: CompatServer;
const ai = (apiKey: string = TOKENS.acme): GoogleGenAI => new GoogleGenAI({ apiKey, httpOptions: { baseUrl: server.url, retryOptions: { attempts: 1 } } });

/** Runs `call`, expects the SDK's ApiError, returns its status and the error body it carries. */
async function apiError(call: () => Promise<unknown>): Promise<{ status: number; error: { code: number; status: string; message: string; details?: unknown[] } }> {
  try {
    await call();
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    const e = err as ApiError;
    const body = JSON.parse(e.message.slice(e.message.indexOf('{'))) as { error: { code: number; status: string; message: string } };
    return { status: e.status, error: body.error };
  }
  throw new Error('expected the SDK to throw');
}

async function collect(stream: AsyncGenerator<GenerateContentResponse>): Promise<GenerateContentResponse[]> {
  const out: GenerateContentResponse[] = [];
  for await (const chunk of stream) out.push(chunk);
  return out;
}

beforeAll(async () => {
  server = await startCompatServer();
});
afterAll(async () => {
  await server.close();
});

describe('generateContent', () => {
  it('answers with the served model, usage and a response id, routing the named model first', async () => {
    const res = await ai().models.generateContent({ model: 'gemini-2.5-flash', contents: 'hello there', config: { systemInstruction: 'be brief', temperature: 0.3 } });
    const sent = server.service.last();
    expect(res.text).toBe('echo: hello there');
    expect(res.modelVersion).toBe('gemini-2.5-flash');
    expect(res.responseId).toBe(`resp-${sent.jobId}`);
    expect(res.candidates?.[0]?.finishReason).toBe('STOP');
    expect(res.usageMetadata?.promptTokenCount).toBe(estimateInputTokens(sent.request));
    expect(res.usageMetadata?.totalTokenCount).toBe((res.usageMetadata?.promptTokenCount ?? 0) + (res.usageMetadata?.candidatesTokenCount ?? 0));
    expect(sent.request.models).toEqual(['gemini-2.5-flash', 'gemini-2.5-pro', 'gemini-2.5-flash-lite']);
    expect(sent.request.systemInstruction).toEqual({ role: 'user', parts: [{ text: 'be brief' }] });
    expect(sent.request.generationConfig?.temperature).toBe(0.3);
    expect(sent.request.stream).toBe(false);
  });

  it('uses the tenant chain as it is for model "auto"', async () => {
    const res = await ai().models.generateContent({ model: 'models/auto', contents: 'pick one' });
    expect(server.service.last().request.models).toEqual(CHAINS.acme);
    expect(res.modelVersion).toBe('gemini-2.5-pro');
  });

  it('returns a function call with its thought signature, and takes it back on the next turn', async () => {
    const tools = [{ functionDeclarations: [{ name: 'get_weather', description: 'weather for a city', parametersJsonSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }] }];
    const question: Content = { role: 'user', parts: [{ text: 'weather in Paris?' }] };
    const first = await ai().models.generateContent({ model: 'gemini-2.5-flash', contents: [question], config: { tools } });
    expect(first.functionCalls).toEqual([{ name: 'get_weather', args: { city: 'Paris' } }]);
    const modelTurn = first.candidates?.[0]?.content;
    expect(modelTurn?.parts?.[0]?.thoughtSignature).toBe('sig-get_weather');
    const answer: Content = { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { temp: 21 } } }] };
    const second = await ai().models.generateContent({ model: 'gemini-2.5-flash', contents: [question, modelTurn ?? {}, answer], config: { tools } });
    expect(second.text).toBe('the tool said {"temp":21}');
    const sent = server.service.last().request;
    expect(sent.tools?.[0]?.functionDeclarations?.[0]?.name).toBe('get_weather');
    expect(sent.contents).toEqual([
      { role: 'user', parts: [{ text: 'weather in Paris?' }] },
      { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: 'sig-get_weather' }] },
      { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { temp: 21 } } }] },
    ]);
  });

  it('answers JSON that fits a response schema', async () => {
    const schema = { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer' } }, required: ['name', 'age'] };
    const res = await ai().models.generateContent({ model: 'gemini-2.5-flash', contents: 'a person', config: { responseMimeType: 'application/json', responseJsonSchema: schema } });
    expect(JSON.parse(res.text ?? '')).toEqual({ name: 'text', age: 7 });
    expect(server.service.last().request.generationConfig).toMatchObject({ responseMimeType: 'application/json', responseJsonSchema: schema });
  });

  it('carries a safety block the way Gemini does: 200 with promptFeedback', async () => {
    server.service.plan({ kind: 'blocked', message: 'prompt blocked: SAFETY' });
    const res = await ai().models.generateContent({ model: 'gemini-2.5-flash', contents: 'something bad' });
    expect(res.promptFeedback?.blockReason).toBe('SAFETY');
    expect(res.text).toBeUndefined();
  });
});

describe('generateContentStream', () => {
  it('streams the chunks as they come, the last one with usage, finish reason and model', async () => {
    const chunks = await collect(await ai().models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'stream this please' }));
    expect(chunks.length).toBe(4);
    expect(chunks.map((c) => c.text ?? '').join('')).toBe('echo: stream this please');
    const last = chunks.at(-1);
    expect(last?.candidates?.[0]?.finishReason).toBe('STOP');
    expect(last?.usageMetadata?.candidatesTokenCount).toBeGreaterThan(0);
    expect(last?.modelVersion).toBe('gemini-2.5-flash');
    expect(chunks[0]?.usageMetadata).toBeUndefined();
    expect(server.service.last().request.stream).toBe(true);
  });

  it('hides a reset that came before any chunk', async () => {
    server.service.plan({ kind: 'reset', resetAfter: 0 });
    const chunks = await collect(await ai().models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'try again' }));
    expect(chunks.map((c) => c.text ?? '').join('')).toBe('echo: try again');
  });

  it('ends with an UNAVAILABLE error when an attempt fails after chunks went out', async () => {
    server.service.plan({ kind: 'reset', resetAfter: 2 });
    const seen: string[] = [];
    const got = await apiError(async () => {
      for await (const c of await ai().models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'go' })) seen.push(c.text ?? '');
    });
    expect(seen.join('')).toBe('a first attempt that b');
    expect(got.status).toBe(503);
    expect(got.error.status).toBe('UNAVAILABLE');
    expect(got.error.message).toContain('interrupted');
  });

  it('answers a failure before the first chunk as a plain HTTP error', async () => {
    server.service.plan({ kind: 'fail', reason: 'exhausted', message: 'attempts spent' });
    const got = await apiError(() => ai().models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'go' }));
    expect(got.status).toBe(503);
    expect(got.error.status).toBe('UNAVAILABLE');
  });
});

describe('chats', () => {
  it('keeps a three-turn conversation, every turn a job with the whole history', async () => {
    const chat = ai().chats.create({ model: 'gemini-2.5-flash' });
    for (const said of ['one', 'two', 'three']) expect((await chat.sendMessage({ message: said })).text).toBe(`echo: ${said}`);
    const contents = server.service.last().request.contents;
    expect(Array.isArray(contents) ? contents.map((c) => [c.role, c.parts.map((p) => p.text).join('')]) : []).toEqual([
      ['user', 'one'],
      ['model', 'echo: one'],
      ['user', 'two'],
      ['model', 'echo: two'],
      ['user', 'three'],
    ]);
    expect(chat.getHistory(true)).toHaveLength(6);
  });

  it('records streamed turns in the history too (one model content per chunk, as with Gemini)', async () => {
    const chat = ai().chats.create({ model: 'gemini-2.5-flash' });
    await collect(await chat.sendMessageStream({ message: 'first' }));
    await collect(await chat.sendMessageStream({ message: 'second' }));
    const said = (contents: ReadonlyArray<{ role?: string; parts?: ReadonlyArray<{ text?: string }> }>): Array<[string, string]> => {
      const turns: Array<[string, string]> = [];
      for (const c of contents) {
        const text = (c.parts ?? []).map((p) => p.text ?? '').join('');
        const last = turns.at(-1);
        if (last && last[0] === c.role) last[1] += text;
        else turns.push([c.role ?? '', text]);
      }
      return turns;
    };
    expect(said(chat.getHistory(true))).toEqual([
      ['user', 'first'],
      ['model', 'echo: first'],
      ['user', 'second'],
      ['model', 'echo: second'],
    ]);
    const contents = server.service.last().request.contents;
    expect(said(Array.isArray(contents) ? contents : [])).toEqual([
      ['user', 'first'],
      ['model', 'echo: first'],
      ['user', 'second'],
    ]);
  });
});

describe('countTokens and models', () => {
  it('answers quotaflow’s estimate, marked as one', async () => {
    const res = await ai().models.countTokens({ model: 'gemini-2.5-flash', contents: 'how many tokens is this?' });
    expect(res.totalTokens).toBe(estimateInputTokens({ contents: [{ role: 'user', parts: [{ text: 'how many tokens is this?' }] }] }));
    expect(res.sdkHttpResponse?.headers?.['x-quotaflow-token-count']).toBe('estimate');
  });

  it('lists and gets the tenant’s models', async () => {
    const names: string[] = [];
    for await (const m of await ai().models.list()) names.push(m.name ?? '');
    expect(names).toEqual(CHAINS.acme?.map((m) => `models/${m}`));
    const one = await ai(TOKENS.beta).models.get({ model: 'gemini-2.5-flash-lite' });
    expect(one.supportedActions).toContain('generateContent');
  });
});

describe('errors in Gemini’s shape', () => {
  it('answers an unknown token like Google answers an invalid key', async () => {
    const got = await apiError(() => ai('not-a-tenant-token').models.generateContent({ model: 'gemini-2.5-flash', contents: 'hi' }));
    expect(got.status).toBe(400);
    expect(got.error.status).toBe('INVALID_ARGUMENT');
    expect(JSON.stringify(got.error.details)).toContain('API_KEY_INVALID');
    expect(JSON.stringify(got)).not.toContain('not-a-tenant-token');
  });

  it('answers 404 for a model outside the tenant’s chain, another tenant’s token included', async () => {
    const unknown = await apiError(() => ai().models.generateContent({ model: 'gemini-9-ultra', contents: 'hi' }));
    expect(unknown.status).toBe(404);
    expect(unknown.error.status).toBe('NOT_FOUND');
    expect(unknown.error.message).toContain('models/gemini-9-ultra');
    const other = await apiError(() => ai(TOKENS.beta).models.generateContent({ model: 'gemini-2.5-pro', contents: 'hi' }));
    expect(other.status).toBe(404);
    expect((await apiError(() => ai(TOKENS.beta).models.get({ model: 'gemini-2.5-pro' }))).status).toBe(404);
  });

  it('answers 403 for a tenant that was switched off', async () => {
    const got = await apiError(() => ai(TOKENS.off).models.generateContent({ model: 'gemini-2.5-flash', contents: 'hi' }));
    expect(got.status).toBe(403);
    expect(got.error.status).toBe('PERMISSION_DENIED');
  });

  it('answers 400 naming the field for a malformed request', async () => {
    const got = await apiError(() => ai().models.generateContent({ model: 'gemini-2.5-flash', contents: 'hi', config: { temperature: 7 } }));
    expect(got.status).toBe(400);
    expect(got.error.status).toBe('INVALID_ARGUMENT');
    expect(got.error.message).toContain('generationConfig.temperature');
  });

  it.each([
    ['exhausted', 503, 'UNAVAILABLE'],
    ['no_keys', 503, 'UNAVAILABLE'],
    ['deadline', 504, 'DEADLINE_EXCEEDED'],
    ['invalid_request', 400, 'INVALID_ARGUMENT'],
    ['budget', 429, 'RESOURCE_EXHAUSTED'],
    ['internal', 500, 'INTERNAL'],
  ] as const)('answers a job failed for %s with %i %s', async (reason, status, grpc) => {
    server.service.plan({ kind: 'fail', reason, message: `failed: ${reason}` });
    const got = await apiError(() => ai().models.generateContent({ model: 'gemini-2.5-flash', contents: 'hi' }));
    expect(got.status).toBe(status);
    expect(got.error.status).toBe(grpc);
  });
});
