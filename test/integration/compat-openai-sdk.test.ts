/**
 * The OpenAI-compatible endpoints driven by the real openai SDK, pointed at
 * quotaflow with a tenant token as its API key.
 */
import OpenAI, { APIError } from 'openai';
import type { ChatCompletionChunk, ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { estimateInputTokens } from '../../src/core/tokens.js';
import { CHAINS, TOKENS, startCompatServer, type CompatServer } from '../helpers/compat-server.js';

let server: CompatServer;
const openai = (apiKey: string = TOKENS.acme, path = '/v1'): OpenAI => new OpenAI({ apiKey, baseURL: `${server.url}${path}`, maxRetries: 0 });

async function apiError(call: () => Promise<unknown>): Promise<APIError> {
  try {
    await call();
  } catch (err) {
    expect(err).toBeInstanceOf(APIError);
    return err as APIError;
  }
  throw new Error('expected the SDK to throw');
}

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
const weather: ChatCompletionTool = {
  type: 'function',
  function: { name: 'get_weather', description: 'weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};

beforeAll(async () => {
  server = await startCompatServer();
});
afterAll(async () => {
  await server.close();
});

describe('chat.completions.create', () => {
  it('answers a chat.completion with usage, routing the named model first', async () => {
    const res = await openai().chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'hello there' },
      ],
      temperature: 0.2,
      max_completion_tokens: 300,
      stop: ['END'],
      seed: 42,
      reasoning_effort: 'low',
    });
    const sent = server.service.last();
    expect(res.id).toBe(`chatcmpl-${sent.jobId}`);
    expect(res.object).toBe('chat.completion');
    expect(res.model).toBe('gemini-2.5-flash');
    expect(res.choices[0]?.message.content).toBe('echo: hello there');
    expect(res.choices[0]?.finish_reason).toBe('stop');
    expect(res.usage?.prompt_tokens).toBe(estimateInputTokens(sent.request));
    expect(res.usage?.completion_tokens_details?.reasoning_tokens).toBe(11);
    expect(res.usage?.total_tokens).toBe((res.usage?.prompt_tokens ?? 0) + (res.usage?.completion_tokens ?? 0));
    expect(sent.request).toMatchObject({
      models: ['gemini-2.5-flash', 'gemini-2.5-pro', 'gemini-2.5-flash-lite'],
      systemInstruction: { parts: [{ text: 'be brief' }] },
      contents: [{ role: 'user', parts: [{ text: 'hello there' }] }],
      generationConfig: { temperature: 0.2, maxOutputTokens: 300, stopSequences: ['END'], seed: 42, thinkingConfig: { thinkingBudget: 1024 } },
      stream: false,
    });
  });

  it('serves Gemini’s own OpenAI path and model "auto"', async () => {
    const res = await openai(TOKENS.acme, '/v1beta/openai').chat.completions.create({ model: 'auto', messages: [{ role: 'user', content: 'hi' }] });
    expect(server.service.last().request.models).toEqual(CHAINS.acme);
    expect(res.model).toBe('gemini-2.5-pro');
  });

  it('takes an image as a data URL', async () => {
    const res = await openai().chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'what is this?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } }] }],
    });
    expect(res.choices[0]?.message.content).toBe('echo: what is this? [image/png]');
    expect(server.service.last().request.contents).toEqual([{ role: 'user', parts: [{ text: 'what is this?' }, { inlineData: { mimeType: 'image/png', data: PNG } }] }]);
  });

  it('answers JSON for a json_schema response format', async () => {
    const schema = { type: 'object', properties: { title: { type: 'string' }, tags: { type: 'array', items: { type: 'string' } } }, required: ['title', 'tags'] };
    const res = await openai().chat.completions.create({
      model: 'gemini-2.5-flash',
      messages: [{ role: 'user', content: 'a post' }],
      response_format: { type: 'json_schema', json_schema: { name: 'post', schema } },
    });
    expect(JSON.parse(res.choices[0]?.message.content ?? '')).toEqual({ title: 'text', tags: ['text'] });
    expect(server.service.last().request.generationConfig).toEqual({ responseMimeType: 'application/json', responseJsonSchema: schema });
  });

  it('makes a tool call round trip, ids and thought signatures included', async () => {
    const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: 'weather in Paris?' }];
    const first = await openai().chat.completions.create({ model: 'gemini-2.5-flash', messages, tools: [weather], tool_choice: 'required' });
    const firstJob = server.service.last();
    expect(firstJob.request.toolConfig).toEqual({ functionCallingConfig: { mode: 'ANY' } });
    expect(firstJob.request.tools).toEqual([{ functionDeclarations: [{ name: 'get_weather', description: 'weather for a city', parametersJsonSchema: weather.function.parameters }] }]);
    const choice = first.choices[0];
    expect(choice?.finish_reason).toBe('tool_calls');
    const call = choice?.message.tool_calls?.[0];
    expect(call?.id).toBe(`call_qf_${firstJob.jobId}_0`);
    expect(call?.type === 'function' ? call.function : undefined).toEqual({ name: 'get_weather', arguments: '{"city":"Paris"}' });
    expect(JSON.stringify(call)).toContain('"thought_signature":"sig-get_weather"');
    if (!choice || !call) throw new Error('no tool call');
    messages.push(choice.message, { role: 'tool', tool_call_id: call.id, content: '{"temp":21}' });
    const second = await openai().chat.completions.create({ model: 'gemini-2.5-flash', messages, tools: [weather] });
    expect(second.choices[0]?.message.content).toBe('the tool said {"temp":21}');
    expect(server.service.last().request.contents).toEqual([
      { role: 'user', parts: [{ text: 'weather in Paris?' }] },
      { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: 'sig-get_weather' }] },
      { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { temp: 21 } } }] },
    ]);
  });

  it('answers a safety block with finish_reason content_filter', async () => {
    server.service.plan({ kind: 'blocked', message: 'response blocked: SAFETY' });
    const res = await openai().chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'bad' }] });
    expect(res.choices[0]?.finish_reason).toBe('content_filter');
    expect(res.choices[0]?.message.content).toBeNull();
  });
});

describe('streaming', () => {
  const collect = async (stream: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> => {
    const out: ChatCompletionChunk[] = [];
    for await (const c of stream) out.push(c);
    return out;
  };

  it('streams deltas, the role first, a finish reason, then usage', async () => {
    const chunks = await collect(
      await openai().chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'stream it' }], stream: true, stream_options: { include_usage: true } }),
    );
    const deltas = chunks.flatMap((c) => c.choices.map((ch) => ch.delta));
    expect(deltas[0]?.role).toBe('assistant');
    expect(deltas.map((d) => d.content ?? '').join('')).toBe('echo: stream it');
    expect(chunks.flatMap((c) => c.choices.map((ch) => ch.finish_reason)).filter((f) => f !== null)).toEqual(['stop']);
    const usage = chunks.at(-1);
    expect(usage?.choices).toEqual([]);
    expect(usage?.usage?.prompt_tokens).toBe(estimateInputTokens(server.service.last().request));
    expect(usage?.model).toBe('gemini-2.5-flash');
    expect(chunks.every((c) => c.id === `chatcmpl-${server.service.last().jobId}`)).toBe(true);
  });

  it('streams a tool call as one indexed delta', async () => {
    const chunks = await collect(await openai().chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'weather?' }], tools: [weather], stream: true }));
    const calls = chunks.flatMap((c) => c.choices.flatMap((ch) => ch.delta.tool_calls ?? []));
    expect(calls).toMatchObject([{ index: 0, id: `call_qf_${server.service.last().jobId}_0`, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }]);
    expect(chunks.flatMap((c) => c.choices.map((ch) => ch.finish_reason)).filter((f) => f !== null)).toEqual(['tool_calls']);
  });

  it('raises an error event when an attempt fails after chunks went out', async () => {
    server.service.plan({ kind: 'reset', resetAfter: 1 });
    const seen: string[] = [];
    const err = await apiError(async () => {
      for await (const c of await openai().chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'go' }], stream: true })) seen.push(c.choices[0]?.delta.content ?? '');
    });
    expect(seen.join('')).toBe('a first att');
    expect(err.message).toContain('interrupted');
    expect(err.code).toBe('stream_interrupted');
  });
});

describe('models', () => {
  it('lists and retrieves the tenant’s models', async () => {
    const ids: string[] = [];
    for await (const m of openai().models.list()) ids.push(m.id);
    expect(ids).toEqual(CHAINS.acme);
    expect((await openai(TOKENS.beta).models.retrieve('gemini-2.5-flash-lite')).object).toBe('model');
    const missing = await apiError(() => openai(TOKENS.beta).models.retrieve('gemini-2.5-pro'));
    expect(missing.status).toBe(404);
  });
});

describe('errors in OpenAI’s shape', () => {
  it('answers 401 invalid_api_key for an unknown token, without echoing it', async () => {
    const err = await apiError(() => openai('sk-wrong-token-123').chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'hi' }] }));
    expect(err.status).toBe(401);
    expect(err.code).toBe('invalid_api_key');
    expect(err.type).toBe('authentication_error');
    expect(err.message).not.toContain('sk-wrong-token-123');
  });

  it('answers 404 model_not_found for a model the tenant cannot use', async () => {
    const err = await apiError(() => openai(TOKENS.beta).chat.completions.create({ model: 'gemini-2.5-pro', messages: [{ role: 'user', content: 'hi' }] }));
    expect(err.status).toBe(404);
    expect(err.code).toBe('model_not_found');
    expect(err.param).toBe('model');
  });

  it('answers 400 naming the parameter', async () => {
    const n = await apiError(() => openai().chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'hi' }], n: 2 }));
    expect([n.status, n.param, n.type]).toEqual([400, 'n', 'invalid_request_error']);
    const remote = await apiError(() =>
      openai().chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'http://169.254.169.254/latest' } }] }] }),
    );
    expect([remote.status, remote.param]).toEqual([400, 'messages[0].content[0].image_url.url']);
    expect(remote.message).toContain('data URL');
  });

  it.each([
    ['exhausted', 503, 'server_error'],
    ['deadline', 504, 'server_error'],
    ['budget', 429, 'rate_limit_error'],
    ['invalid_request', 400, 'invalid_request_error'],
    ['internal', 500, 'api_error'],
  ] as const)('answers a job failed for %s with %i %s', async (reason, status, type) => {
    server.service.plan({ kind: 'fail', reason, message: `failed: ${reason}` });
    const err = await apiError(() => openai().chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'hi' }] }));
    expect([err.status, err.type]).toEqual([status, type]);
  });

  it('answers a tenant over its limit with 429 and Retry-After', async () => {
    server.service.plan({ kind: 'tenant-limit', retryAfterMs: 2_500 });
    const err = await apiError(() => openai().chat.completions.create({ model: 'gemini-2.5-flash', messages: [{ role: 'user', content: 'hi' }] }));
    expect(err.status).toBe(429);
    expect(err.headers?.get('retry-after')).toBe('3');
  });
});
