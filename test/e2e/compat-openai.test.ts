/**
 * The OpenAI-compatible drop-in endpoints end to end: the real openai SDK
 * against a real `quotaflow api` process, the queue, worker processes,
 * admission and the stand-in (which records every upstream body).
 */
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import OpenAI, { APIError, AuthenticationError, BadRequestError, NotFoundError } from 'openai';
import type { ChatCompletionChunk, ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENERATION_QUEUE } from '../../src/adapters/queue/job-contract.js';
import { redisKeys } from '../../src/adapters/redis/keys.js';
import type { SimCall } from '../../src/simulator/stats.js';
import { startCompatStack, type CompatStack } from '../helpers/compat-stack.js';
import { TEST_REDIS_URL } from '../helpers/redis.js';
import { tenantConfigs } from '../helpers/tenants.js';

const PRO = 'gemini-2.5-pro';
const FLASH = 'gemini-2.5-flash';
const LITE = 'gemini-2.5-flash-lite';
const MODELS = [PRO, FLASH, LITE];
const AMPLE = Object.fromEntries(MODELS.map((m) => [m, { rpm: 10_000, tpm: 10_000_000, rpd: 100_000 }]));
const TOKENS = { acme: randomBytes(24).toString('hex'), beta: randomBytes(24).toString('hex') };
const cfg = tenantConfigs({
  models: MODELS,
  projects: { pc: AMPLE },
  tenants: [
    { id: 'acme', keyMode: 'central-only', token: TOKENS.acme },
    { id: 'beta', keyMode: 'central-only', models: [LITE], token: TOKENS.beta },
  ],
  keys: [{ id: 'c1', tenant: null, project: 'pc' }],
  sim: { recordBodies: true },
});

let stack: CompatStack;
let queue: Queue;
beforeAll(async () => {
  stack = await startCompatStack({ name: 'compat-openai', sim: cfg.sim, fleet: cfg.fleet });
  queue = new Queue(GENERATION_QUEUE, { connection: { url: TEST_REDIS_URL }, prefix: stack.prefix });
}, 120_000);
afterAll(async () => {
  await queue?.close();
  await stack?.stop();
}, 60_000);

const openai = (apiKey: string = TOKENS.acme, opts: { headers?: Record<string, string | null> } = {}): OpenAI =>
  new OpenAI({ apiKey, baseURL: `${stack.url}/v1`, maxRetries: 0, ...(opts.headers ? { defaultHeaders: opts.headers } : {}) });

const unique = (what: string): string => `${what} ${randomBytes(4).toString('hex')}`;
const upstream = (text: string): SimCall[] => stack.sim.calls({ withBodies: true }).filter((c) => c.method !== 'countTokens' && JSON.stringify(c.body ?? null).includes(text));
type UpstreamBody = { contents: Array<{ role: string; parts: Array<Record<string, unknown>> }> };

async function collect(stream: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const out: ChatCompletionChunk[] = [];
  for await (const c of stream) out.push(c);
  return out;
}

async function thrown(call: () => Promise<unknown>): Promise<APIError> {
  const err = await call().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(APIError);
  return err as APIError;
}

const weather: ChatCompletionTool = {
  type: 'function',
  function: { name: 'get_weather', description: 'weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

describe('chat completions', () => {
  it('plain: the named model serves, usage equals the stand-in’s counts', async () => {
    const text = unique('hello there');
    const res = await openai().chat.completions.create({ model: FLASH, messages: [{ role: 'user', content: text }] });
    expect(res.model).toBe(FLASH);
    expect(res.choices[0]?.message.content).toBe(`[${FLASH}] echo: ${text}`);
    const calls = upstream(text);
    expect(calls.map((c) => [c.model, c.status])).toEqual([[FLASH, 200]]);
    expect(res.usage?.prompt_tokens).toBe(calls[0]?.promptTokens);
    expect(res.usage?.completion_tokens).toBe(calls[0]?.candidatesTokens);
    expect(res.usage?.total_tokens).toBe((calls[0]?.promptTokens ?? 0) + (calls[0]?.candidatesTokens ?? 0));
  });

  it('streamed: deltas add up to the answer, the usage chunk equals the stand-in’s counts', async () => {
    const text = unique('a message long enough to come back in several pieces');
    const chunks = await collect(await openai().chat.completions.create({ model: PRO, messages: [{ role: 'user', content: text }], stream: true, stream_options: { include_usage: true } }));
    expect(chunks.length).toBeGreaterThan(2);
    expect(chunks.flatMap((c) => c.choices.map((ch) => ch.delta.content ?? '')).join('')).toBe(`[${PRO}] echo: ${text.slice(0, 80)}`);
    const calls = upstream(text);
    expect(calls.map((c) => [c.model, c.status])).toEqual([[PRO, 200]]);
    const usage = chunks.at(-1)?.usage;
    expect(usage?.prompt_tokens).toBe(calls[0]?.promptTokens);
    expect(usage?.completion_tokens).toBe(calls[0]?.candidatesTokens);
    expect(chunks.at(-1)?.model).toBe(PRO);
  });

  it('tool call round trip: id and thought signature go back upstream unchanged', async () => {
    const question = unique('weather in Paris?');
    const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: question }];
    const first = await openai().chat.completions.create({ model: FLASH, messages, tools: [weather], tool_choice: 'required' });
    const choice = first.choices[0];
    expect(choice?.finish_reason).toBe('tool_calls');
    const call = choice?.message.tool_calls?.[0];
    if (!choice || call?.type !== 'function') throw new Error('no function call');
    expect(call.function.name).toBe('get_weather');
    messages.push(choice.message, { role: 'tool', tool_call_id: call.id, content: '{"temp":21}' });
    const second = await openai().chat.completions.create({ model: FLASH, messages, tools: [weather] });
    expect(second.choices[0]?.message.content).toContain('get_weather returned {"temp":21}');

    const bodies = upstream(question).map((c) => c.body as UpstreamBody);
    expect(bodies).toHaveLength(2);
    const signature = (call as unknown as { extra_content?: { google?: { thought_signature?: string } } }).extra_content?.google?.thought_signature;
    expect(signature).toBeTruthy();
    const modelTurn = bodies[1]?.contents[1];
    expect(modelTurn?.role).toBe('model');
    const fc = modelTurn?.parts.find((p) => p.functionCall);
    expect(fc?.thoughtSignature).toBe(signature);
    expect((fc?.functionCall as { id?: string; name: string }).name).toBe('get_weather');
    // an id Gemini gave is the OpenAI id, and goes back with the call and its response
    expect((fc?.functionCall as { id?: string }).id).toBe(call.id);
    const fr = bodies[1]?.contents[2]?.parts[0]?.functionResponse as { id?: string; name: string; response: unknown };
    expect(fr).toEqual({ id: call.id, name: 'get_weather', response: { temp: 21 } });
  });

  it('json_schema response format: the answer fits the schema', async () => {
    const schema = { type: 'object', properties: { title: { type: 'string' }, score: { type: 'number' }, tags: { type: 'array', items: { type: 'string' } } }, required: ['title', 'score', 'tags'], additionalProperties: false };
    const res = await openai().chat.completions.create({ model: FLASH, messages: [{ role: 'user', content: unique('a post') }], response_format: { type: 'json_schema', json_schema: { name: 'post', schema, strict: true } } });
    const value = JSON.parse(res.choices[0]?.message.content ?? '') as Record<string, unknown>;
    expect(Object.keys(value).sort()).toEqual(['score', 'tags', 'title']);
    expect(typeof value.title).toBe('string');
    expect(typeof value.score).toBe('number');
    expect(Array.isArray(value.tags) && value.tags.every((t) => typeof t === 'string')).toBe(true);
  });

  it('a data-URL image arrives upstream as inlineData', async () => {
    const text = unique('what is this?');
    await openai().chat.completions.create({ model: FLASH, messages: [{ role: 'user', content: [{ type: 'text', text }, { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } }] }] });
    const bodies = upstream(text).map((c) => c.body as UpstreamBody);
    expect(bodies).toHaveLength(1);
    expect(bodies[0]?.contents).toEqual([{ role: 'user', parts: [{ text }, { inlineData: { mimeType: 'image/png', data: PNG } }] }]);
  });
});

describe('models', () => {
  it('lists each tenant’s own chain', async () => {
    const ids = async (token: string): Promise<string[]> => {
      const out: string[] = [];
      for await (const m of openai(token).models.list()) out.push(m.id);
      return out;
    };
    expect(await ids(TOKENS.acme)).toEqual(MODELS);
    expect(await ids(TOKENS.beta)).toEqual([LITE]);
  });
});

describe('errors as the SDK raises them', () => {
  const hi: ChatCompletionMessageParam[] = [{ role: 'user', content: 'hi' }];

  it('an unknown token: AuthenticationError; no token: 401', async () => {
    const unknown = await thrown(() => openai('sk-unknown-token-0123').chat.completions.create({ model: FLASH, messages: hi }));
    expect(unknown).toBeInstanceOf(AuthenticationError);
    expect(unknown.code).toBe('invalid_api_key');
    expect(unknown.message).not.toContain('sk-unknown-token-0123');
    const missing = await thrown(() => openai('unused', { headers: { authorization: null } }).chat.completions.create({ model: FLASH, messages: hi }));
    expect(missing.status).toBe(401);
    expect(missing).toBeInstanceOf(AuthenticationError);
  });

  it('another tenant’s model: NotFoundError model_not_found, and nothing queued', async () => {
    const counts = async (): Promise<number> => Object.values(await queue.getJobCounts()).reduce((a, b) => a + b, 0);
    const before = await counts();
    const calls = stack.sim.stats().calls.length;
    const err = await thrown(() => openai(TOKENS.beta).chat.completions.create({ model: PRO, messages: hi }));
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err.code).toBe('model_not_found');
    expect(err.param).toBe('model');
    expect(await counts()).toBe(before);
    expect(Number((await stack.redis.hget(redisKeys(stack.prefix).tenant('beta').outstanding, '_n')) ?? '0')).toBe(0);
    expect(stack.sim.stats().calls.length).toBe(calls);
  });

  it('a malformed request: BadRequestError naming the parameter', async () => {
    const n = await thrown(() => openai().chat.completions.create({ model: FLASH, messages: hi, n: 3 }));
    expect(n).toBeInstanceOf(BadRequestError);
    expect(n.param).toBe('n');
    const remote = await thrown(() => openai().chat.completions.create({ model: FLASH, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.invalid/cat.png' } }] }] }));
    expect(remote).toBeInstanceOf(BadRequestError);
    expect(remote.param).toBe('messages[0].content[0].image_url.url');
    const role = await thrown(() => openai().chat.completions.create({ model: FLASH, messages: [{ role: 'wizard', content: 'hi' } as unknown as ChatCompletionMessageParam] }));
    expect(role).toBeInstanceOf(BadRequestError);
    expect(role.param).toBe('messages[0].role');
  });

  it('a token whose tenant the queue does not know yet: 503 with Retry-After 2', async () => {
    const directory = redisKeys(stack.prefix).tenantDirectory;
    const entry = await stack.redis.hget(directory, 'beta');
    await stack.redis.hdel(directory, 'beta');
    try {
      const err = await thrown(() => openai(TOKENS.beta).chat.completions.create({ model: LITE, messages: hi }));
      expect(err.status).toBe(503);
      expect(err.headers?.get('retry-after')).toBe('2');
    } finally {
      await stack.redis.hset(directory, 'beta', entry ?? '');
    }
  });
});
