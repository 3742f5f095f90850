/**
 * The Gemini-native drop-in endpoints end to end: the real @google/genai SDK
 * against a real `quotaflow api` process, the queue, worker processes,
 * admission and the stand-in (which records every upstream body).
 */
import { randomBytes } from 'node:crypto';
import { ApiError, GoogleGenAI, type Content, type GenerateContentResponse } from '@google/genai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisKeys } from '../../src/adapters/redis/keys.js';
import type { SimCall } from '../../src/simulator/stats.js';
import { API_EXIT_MS, startCompatStack, stopWithin, type CompatStack } from '../helpers/compat-stack.js';
import { tenantConfigs, until, type TenantDef } from '../helpers/tenants.js';

const PRO = 'gemini-2.5-pro';
const FLASH = 'gemini-2.5-flash';
const LITE = 'gemini-2.5-flash-lite';
const MODELS = [PRO, FLASH, LITE];
const AMPLE = Object.fromEntries(MODELS.map((m) => [m, { rpm: 10_000, tpm: 10_000_000, rpd: 100_000 }]));
const ONE_PER_MINUTE = Object.fromEntries(MODELS.map((m) => [m, { rpm: 1, tpm: 10_000_000, rpd: 100_000 }]));
const TOKENS = { acme: randomBytes(24).toString('hex'), beta: randomBytes(24).toString('hex'), slow: randomBytes(24).toString('hex') };

const tenants = (betaModels: string[]): TenantDef[] => [
  { id: 'acme', keyMode: 'central-only', token: TOKENS.acme },
  { id: 'beta', keyMode: 'central-only', models: betaModels, token: TOKENS.beta },
  { id: 'slow', keyMode: 'own-only', models: [FLASH], token: TOKENS.slow },
];
const configs = (betaModels: string[]) =>
  tenantConfigs({
    models: MODELS,
    projects: { pc: AMPLE, ps: ONE_PER_MINUTE },
    tenants: tenants(betaModels),
    keys: [
      { id: 'c1', tenant: null, project: 'pc' },
      { id: 's1', tenant: 'slow', project: 'ps' },
    ],
    sim: { recordBodies: true },
  });
const cfg = configs([LITE]);

let stack: CompatStack;
beforeAll(async () => {
  stack = await startCompatStack({ name: 'compat-gemini', sim: cfg.sim, fleet: cfg.fleet });
}, 120_000);
afterAll(async () => {
  await stack?.stop();
}, 60_000);

const ai = (apiKey: string = TOKENS.acme, headers: Record<string, string> = {}): GoogleGenAI =>
  new GoogleGenAI({ apiKey, httpOptions: { baseUrl: stack.url, headers, retryOptions: { attempts: 1 } } });

/** A text no other test sends, to find its upstream calls by. */
const unique = (what: string): string => `${what} ${randomBytes(4).toString('hex')}`;
const upstream = (text: string): SimCall[] => stack.sim.calls({ withBodies: true }).filter((c) => c.method !== 'countTokens' && JSON.stringify(c.body ?? null).includes(text));
const jobIdOf = (res: GenerateContentResponse): string => res.sdkHttpResponse?.headers?.['x-quotaflow-job-id'] ?? '';

async function collect(stream: AsyncGenerator<GenerateContentResponse>): Promise<GenerateContentResponse[]> {
  const out: GenerateContentResponse[] = [];
  for await (const chunk of stream) out.push(chunk);
  return out;
}

describe('generateContent', () => {
  it('is served by the named model, with the stand-in’s usage and a job id header of a completed job', async () => {
    const text = unique('hello there');
    const res = await ai().models.generateContent({ model: FLASH, contents: text });
    expect(res.modelVersion).toBe(FLASH);
    expect(res.text).toBe(`[${FLASH}] echo: ${text}`);
    const calls = upstream(text);
    expect(calls.map((c) => [c.model, c.status])).toEqual([[FLASH, 200]]);
    expect(res.usageMetadata?.promptTokenCount).toBe(calls[0]?.promptTokens);
    expect(res.usageMetadata?.candidatesTokenCount).toBe(calls[0]?.candidatesTokens);
    const jobId = jobIdOf(res);
    expect(jobId).not.toBe('');
    const job = await stack.client.wait(jobId, { timeoutMs: 10_000 });
    expect(job).toMatchObject({ jobId, model: FLASH, text: res.text });
  });

  it('streams in more than two chunks, the last carrying usage equal to the stand-in’s count', async () => {
    const text = unique('a longer message so that the answer comes in several pieces');
    const chunks = await collect(await ai().models.generateContentStream({ model: PRO, contents: text }));
    expect(chunks.length).toBeGreaterThan(2);
    expect(chunks.map((c) => c.text ?? '').join('')).toBe(`[${PRO}] echo: ${text.slice(0, 80)}`);
    const last = chunks.at(-1);
    const calls = upstream(text);
    expect(calls.map((c) => [c.model, c.status])).toEqual([[PRO, 200]]);
    expect(last?.usageMetadata?.promptTokenCount).toBe(calls[0]?.promptTokens);
    expect(last?.usageMetadata?.candidatesTokenCount).toBe(calls[0]?.candidatesTokens);
    expect(last?.modelVersion).toBe(PRO);
  });
});

describe('chats', () => {
  it('three turns: the third upstream body carries the earlier turns', async () => {
    const said = [unique('one'), unique('two'), unique('three')];
    const chat = ai().chats.create({ model: FLASH });
    for (const s of said) expect((await chat.sendMessage({ message: s })).text).toBe(`[${FLASH}] echo: ${s}`);
    const third = upstream(said[2] ?? '');
    expect(third).toHaveLength(1);
    const contents = (third[0]?.body as { contents: Content[] }).contents;
    expect(contents.map((c) => [c.role, (c.parts ?? []).map((p) => p.text ?? '').join('')])).toEqual([
      ['user', said[0]],
      ['model', `[${FLASH}] echo: ${said[0]}`],
      ['user', said[1]],
      ['model', `[${FLASH}] echo: ${said[1]}`],
      ['user', said[2]],
    ]);
  });
});

describe('function calling', () => {
  it('round trip: the call id and thought signature reach upstream unchanged', async () => {
    const tools = [{ functionDeclarations: [{ name: 'get_weather', description: 'weather for a city', parametersJsonSchema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }] }];
    const question = unique('weather in Paris?');
    const first = await ai().models.generateContent({ model: FLASH, contents: question, config: { tools } });
    const modelTurn = first.candidates?.[0]?.content;
    const callPart = modelTurn?.parts?.find((p) => p.functionCall);
    expect(callPart?.functionCall?.name).toBe('get_weather');
    const id = callPart?.functionCall?.id ?? '';
    const signature = callPart?.thoughtSignature ?? '';
    expect(id).not.toBe('');
    expect(signature).not.toBe('');

    const contents: Content[] = [
      { role: 'user', parts: [{ text: question }] },
      modelTurn ?? {},
      { role: 'user', parts: [{ functionResponse: { id, name: 'get_weather', response: { temperature: 21 } } }] },
    ];
    const second = await ai().models.generateContent({ model: FLASH, contents, config: { tools } });
    expect(second.text).toContain('get_weather returned {"temperature":21}');
    const sent = upstream(question).map((c) => (c.body as { contents: Content[] }).contents);
    expect(sent).toHaveLength(2);
    const back = sent[1]?.[1]?.parts?.find((p) => p.functionCall);
    expect(back?.functionCall?.id).toBe(id);
    expect(back?.thoughtSignature).toBe(signature);
    expect(sent[1]?.[2]?.parts?.[0]?.functionResponse?.id).toBe(id);
  });
});

describe('JSON output', () => {
  it('answers JSON that fits the schema', async () => {
    const schema = { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer' }, tags: { type: 'array', items: { type: 'string' } } }, required: ['name', 'age', 'tags'] };
    const res = await ai().models.generateContent({ model: FLASH, contents: unique('a person'), config: { responseMimeType: 'application/json', responseJsonSchema: schema } });
    const value = JSON.parse(res.text ?? '') as Record<string, unknown>;
    expect(typeof value.name).toBe('string');
    expect(Number.isInteger(value.age)).toBe(true);
    expect(Array.isArray(value.tags) && value.tags.every((t) => typeof t === 'string')).toBe(true);
  });
});

describe('countTokens and models', () => {
  it('countTokens makes no upstream call', async () => {
    const before = stack.sim.stats().calls.length;
    const res = await ai().models.countTokens({ model: FLASH, contents: 'how many tokens is this?' });
    expect(res.totalTokens).toBeGreaterThan(0);
    expect(stack.sim.stats().calls.length).toBe(before);
  });

  it('models.list shows each tenant its own chain', async () => {
    const list = async (token: string): Promise<string[]> => {
      const names: string[] = [];
      for await (const m of await ai(token).models.list()) names.push(m.name ?? '');
      return names;
    };
    expect(await list(TOKENS.acme)).toEqual(MODELS.map((m) => `models/${m}`));
    expect(await list(TOKENS.beta)).toEqual([`models/${LITE}`]);
  });
});

describe('idempotency', () => {
  it('the same key gives one job and one upstream call; another tenant with that key gets its own job', async () => {
    const key = randomBytes(8).toString('hex');
    const text = unique('only once');
    const a = await ai(TOKENS.acme, { 'Idempotency-Key': key }).models.generateContent({ model: LITE, contents: text });
    const b = await ai(TOKENS.acme, { 'Idempotency-Key': key }).models.generateContent({ model: LITE, contents: text });
    expect(jobIdOf(b)).toBe(jobIdOf(a));
    expect(b.text).toBe(a.text);
    const c = await ai(TOKENS.beta, { 'Idempotency-Key': key }).models.generateContent({ model: LITE, contents: text });
    expect(jobIdOf(c)).not.toBe(jobIdOf(a));
    expect(upstream(text)).toHaveLength(2);
  });

  it('streamed: the same key gives one job and one upstream call', async () => {
    const key = randomBytes(8).toString('hex');
    const text = unique('streamed only once');
    const first = await collect(await ai(TOKENS.acme, { 'Idempotency-Key': key }).models.generateContentStream({ model: LITE, contents: text }));
    const again = await collect(await ai(TOKENS.acme, { 'Idempotency-Key': key }).models.generateContentStream({ model: LITE, contents: text }));
    expect(again.map((c) => c.text ?? '').join('')).toBe(first.map((c) => c.text ?? '').join(''));
    expect(jobIdOf(again[0] as GenerateContentResponse)).toBe(jobIdOf(first[0] as GenerateContentResponse));
    expect(upstream(text)).toHaveLength(1);
  });
});

describe('a token whose tenant the queue does not know yet (a fleet change being applied)', () => {
  it('answers 503 UNAVAILABLE with Retry-After 2 and RetryInfo, and 503 on the producer API', async () => {
    const directory = redisKeys(stack.prefix).tenantDirectory;
    const entry = await stack.redis.hget(directory, 'beta');
    expect(entry).not.toBeNull();
    await stack.redis.hdel(directory, 'beta');
    try {
      const err = await ai(TOKENS.beta).models.generateContent({ model: LITE, contents: 'hi' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).status).toBe(503);
      const raw = await fetch(`${stack.url}/v1beta/models/${LITE}:generateContent`, { method: 'POST', headers: { 'x-goog-api-key': TOKENS.beta, 'content-type': 'application/json' }, body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }) });
      expect(raw.status).toBe(503);
      expect(raw.headers.get('retry-after')).toBe('2');
      const body = (await raw.json()) as { error: { status: string; details?: unknown[] } };
      expect(body.error.status).toBe('UNAVAILABLE');
      expect(body.error.details).toEqual([{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '2s' }]);
      const producer = await fetch(`${stack.url}/v1/generations`, { method: 'POST', headers: { authorization: `Bearer ${TOKENS.beta}`, 'content-type': 'application/json' }, body: JSON.stringify({ contents: 'hi' }) });
      expect(producer.status).toBe(503);
      expect(producer.headers.get('retry-after')).toBe('2');
    } finally {
      await stack.redis.hset(directory, 'beta', entry ?? '');
    }
    expect((await ai(TOKENS.beta).models.generateContent({ model: LITE, contents: unique('back') })).modelVersion).toBe(LITE);
  });
});

describe('after `quotaflow apply` changes a tenant’s chain', () => {
  it('routing and models.list follow', async () => {
    await stack.applyFleet(configs([FLASH, LITE]).fleet);
    await until(async () => {
      const names: string[] = [];
      for await (const m of await ai(TOKENS.beta).models.list()) names.push(m.name ?? '');
      return JSON.stringify(names) === JSON.stringify([`models/${FLASH}`, `models/${LITE}`]);
    }, 'beta’s models.list to show its new chain');
    let served = '';
    await until(async () => {
      const res = await ai(TOKENS.beta)
        .models.generateContent({ model: 'auto', contents: unique('which model now?') })
        .catch(() => undefined);
      served = res?.modelVersion ?? '';
      return served === FLASH;
    }, 'beta’s calls to be routed over its new chain');
    expect(served).toBe(FLASH);
  });
});

// last: it stops the api
describe('shutdown', () => {
  it(`quotaflow api exits within ${API_EXIT_MS} ms of SIGTERM with idle SDK connections and a call still waiting for capacity`, async () => {
    const outstanding = redisKeys(stack.prefix).tenant('slow').outstanding;
    // the key's one request of the minute, then one that waits for the next minute
    await ai(TOKENS.slow).models.generateContent({ model: FLASH, contents: unique('first of the minute') });
    const slowAi = new GoogleGenAI({ apiKey: TOKENS.slow, httpOptions: { baseUrl: stack.url, timeout: 100_000, retryOptions: { attempts: 1 } } });
    const waiting = slowAi.models.generateContent({ model: FLASH, contents: unique('waits') }).then(
      () => 'answered',
      () => 'cut',
    );
    await until(async () => Number((await stack.redis.hget(outstanding, '_n')) ?? '0') === 1, 'the waiting call to be queued');
    expect(await stopWithin(stack.api, API_EXIT_MS)).toBe(true);
    expect(await waiting).toBe('cut');
  }, 60_000);
});
