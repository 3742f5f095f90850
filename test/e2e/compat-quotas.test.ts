/**
 * Quotas and tenant caps through the drop-in endpoints, end to end: the real
 * SDKs against a `quotaflow api` process, the queue, workers, admission and
 * the stand-in enforcing the same limits as the fleet file.
 */
import { randomBytes } from 'node:crypto';
import { ApiError, GoogleGenAI, type GenerateContentResponse } from '@google/genai';
import { Queue } from 'bullmq';
import OpenAI, { RateLimitError } from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENERATION_QUEUE } from '../../src/adapters/queue/job-contract.js';
import { redisKeys } from '../../src/adapters/redis/keys.js';
import { startCompatStack, stopWithin, type CompatStack } from '../helpers/compat-stack.js';
import { countBy } from '../helpers/fleets.js';
import { TEST_REDIS_URL } from '../helpers/redis.js';
import { tenantConfigs, until } from '../helpers/tenants.js';

const PRO = 'gemini-2.5-pro';
const FLASH = 'gemini-2.5-flash';
// the 3-keys example: 3 keys in 3 projects, pro at 2 requests a minute each
const TIGHT = { [PRO]: { rpm: 2, tpm: 1_000_000, rpd: 1000 }, [FLASH]: { rpm: 100, tpm: 1_000_000, rpd: 1000 } };
const AMPLE = { [PRO]: { rpm: 10_000, tpm: 10_000_000, rpd: 100_000 }, [FLASH]: { rpm: 10_000, tpm: 10_000_000, rpd: 100_000 } };
const TOKENS = { three: randomBytes(24).toString('hex'), idem: randomBytes(24).toString('hex'), capped: randomBytes(24).toString('hex') };
const cfg = tenantConfigs({
  models: [PRO, FLASH],
  projects: { p1: TIGHT, p2: TIGHT, p3: TIGHT, pc: AMPLE },
  tenants: [
    { id: 'three', keyMode: 'own-only', token: TOKENS.three },
    { id: 'idem', keyMode: 'central-only', limits: { queuedJobs: 1 }, token: TOKENS.idem },
    { id: 'node', keyMode: 'central-only', limits: { queuedJobs: 1 } },
    { id: 'capped', keyMode: 'central-only', limits: { queuedJobs: 4 }, token: TOKENS.capped },
  ],
  keys: [
    { id: 'k1', tenant: 'three', project: 'p1' },
    { id: 'k2', tenant: 'three', project: 'p2' },
    { id: 'k3', tenant: 'three', project: 'p3' },
    { id: 'c1', tenant: null, project: 'pc' },
  ],
  sim: { recordBodies: true },
});

let stack: CompatStack;
let queue: Queue;
beforeAll(async () => {
  stack = await startCompatStack({ name: 'compat-quotas', sim: cfg.sim, fleet: cfg.fleet });
  queue = new Queue(GENERATION_QUEUE, { connection: { url: TEST_REDIS_URL }, prefix: stack.prefix });
}, 120_000);
afterAll(async () => {
  await queue?.close();
  await stack?.stop();
}, 60_000);

const genai = (apiKey: string, headers: Record<string, string> = {}): GoogleGenAI => new GoogleGenAI({ apiKey, httpOptions: { baseUrl: stack.url, headers, retryOptions: { attempts: 1 } } });
const openai = (apiKey: string): OpenAI => new OpenAI({ apiKey, baseURL: `${stack.url}/v1`, maxRetries: 0 });
const unique = (what: string): string => `${what} ${randomBytes(4).toString('hex')}`;
const outstanding = async (tenantId: string): Promise<number> => Number((await stack.redis.hget(redisKeys(stack.prefix).tenant(tenantId).outstanding, '_n')) ?? '0');

async function lastOf<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const c of stream) out.push(c);
  return out;
}

describe('the 3-keys example through both SDKs', () => {
  it('8 calls naming pro, half streamed: 6 by pro (2 per project), 2 by flash, no upstream 429', async () => {
    const three = genai(TOKENS.three);
    const oa = openai(TOKENS.three);
    const modelOfStream = (chunks: GenerateContentResponse[]): string => chunks.at(-1)?.modelVersion ?? '';
    const calls: Array<Promise<string>> = [
      ...[0, 1].map((i) => three.models.generateContent({ model: PRO, contents: unique(`genai ${i}`) }).then((r) => r.modelVersion ?? '')),
      ...[0, 1].map((i) => three.models.generateContentStream({ model: PRO, contents: unique(`genai stream ${i}`) }).then(lastOf).then(modelOfStream)),
      ...[0, 1].map((i) => oa.chat.completions.create({ model: PRO, messages: [{ role: 'user', content: unique(`openai ${i}`) }] }).then((r) => r.model)),
      ...[0, 1].map((i) =>
        oa.chat.completions
          .create({ model: PRO, messages: [{ role: 'user', content: unique(`openai stream ${i}`) }], stream: true, stream_options: { include_usage: true } })
          .then((s) => lastOf<ChatCompletionChunk>(s))
          .then((chunks) => chunks.at(-1)?.model ?? ''),
      ),
    ];
    const served = await Promise.all(calls);
    expect(countBy(served, (m) => m)).toEqual({ [PRO]: 6, [FLASH]: 2 });
    const upstream = stack.sim.stats().calls.filter((c) => ['p1', 'p2', 'p3'].includes(c.project ?? ''));
    expect(upstream.filter((c) => c.status === 429)).toHaveLength(0);
    const ok = upstream.filter((c) => c.status === 200);
    expect(countBy(ok, (c) => c.model ?? '')).toEqual({ [PRO]: 6, [FLASH]: 2 });
    expect(countBy(ok.filter((c) => c.model === PRO), (c) => c.project ?? '')).toEqual({ p1: 2, p2: 2, p3: 2 });
    expect(stack.sim.stats().calls.filter((c) => c.status === 429)).toHaveLength(0);
  });
});

describe('a repeated Idempotency-Key or message id after its job ended', () => {
  it('holds no cap slot: with queuedJobs 1 the next call is served (drop-in endpoints)', async () => {
    const key = randomBytes(8).toString('hex');
    const text = unique('once');
    const a = await genai(TOKENS.idem, { 'Idempotency-Key': key }).models.generateContent({ model: FLASH, contents: text });
    const b = await genai(TOKENS.idem, { 'Idempotency-Key': key }).models.generateContent({ model: FLASH, contents: text });
    expect(b.sdkHttpResponse?.headers?.['x-quotaflow-job-id']).toBe(a.sdkHttpResponse?.headers?.['x-quotaflow-job-id']);
    await until(async () => (await outstanding('idem')) === 0, 'the repeated job’s slot to be free', 10_000);
    const next = await genai(TOKENS.idem).models.generateContent({ model: FLASH, contents: unique('next') });
    expect(next.modelVersion).toBe(FLASH);
    const again = await openai(TOKENS.idem).chat.completions.create({ model: FLASH, messages: [{ role: 'user', content: unique('and the next') }] });
    expect(again.model).toBe(FLASH);
  });

  it('holds no cap slot: with queuedJobs 1 the next call is served (Node client)', async () => {
    const first = await stack.client.generate({ tenantId: 'node', messageId: 'm-1', contents: 'once' }, { timeoutMs: 30_000 });
    const repeat = await stack.client.generate({ tenantId: 'node', messageId: 'm-1', contents: 'once' }, { timeoutMs: 30_000 });
    expect(repeat.jobId).toBe(first.jobId);
    expect(await outstanding('node')).toBe(0);
    const next = await stack.client.generate({ tenantId: 'node', contents: 'another' }, { timeoutMs: 30_000 });
    expect(next.text).toContain('another');
  });
});

describe('with no worker running (jobs stay queued)', () => {
  beforeAll(async () => {
    for (const w of stack.workers) expect(await stopWithin(w, 30_000)).toBe(true);
  }, 60_000);

  it('over the queued-jobs cap: 429 with Retry-After (RetryInfo for Gemini, RateLimitError for OpenAI); callers that leave take their jobs along', async () => {
    const gone = new AbortController();
    const texts = [unique('queued genai'), unique('queued genai stream'), unique('queued openai'), unique('queued openai stream')];
    const settle = (p: Promise<unknown>): Promise<string> =>
      p.then(
        () => 'answered',
        () => 'left',
      );
    const g = genai(TOKENS.capped);
    const oa = openai(TOKENS.capped);
    const left = [
      settle(g.models.generateContent({ model: FLASH, contents: texts[0] ?? '', config: { abortSignal: gone.signal } })),
      settle(g.models.generateContentStream({ model: FLASH, contents: texts[1] ?? '', config: { abortSignal: gone.signal } }).then(lastOf)),
      settle(oa.chat.completions.create({ model: FLASH, messages: [{ role: 'user', content: texts[2] ?? '' }] }, { signal: gone.signal })),
      settle(oa.chat.completions.create({ model: FLASH, messages: [{ role: 'user', content: texts[3] ?? '' }], stream: true }, { signal: gone.signal }).then((s) => lastOf<ChatCompletionChunk>(s))),
    ];
    await until(async () => (await outstanding('capped')) === 4, 'four jobs queued');

    // one more: over the cap of 4
    const geminiRaw = await fetch(`${stack.url}/v1beta/models/${FLASH}:generateContent`, {
      method: 'POST',
      headers: { 'x-goog-api-key': TOKENS.capped, 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'one too many' }] }] }),
    });
    expect(geminiRaw.status).toBe(429);
    expect(Number(geminiRaw.headers.get('retry-after'))).toBeGreaterThan(0);
    const body = (await geminiRaw.json()) as { error: { status: string; details?: Array<Record<string, unknown>> } };
    expect(body.error.status).toBe('RESOURCE_EXHAUSTED');
    expect(body.error.details?.find((d) => d['@type'] === 'type.googleapis.com/google.rpc.RetryInfo')?.retryDelay).toBe(`${geminiRaw.headers.get('retry-after')}s`);
    const viaSdk = await g.models.generateContent({ model: FLASH, contents: 'one too many' }).catch((e: unknown) => e);
    expect(viaSdk).toBeInstanceOf(ApiError);
    expect((viaSdk as ApiError).status).toBe(429);
    const oaErr = await oa.chat.completions.create({ model: FLASH, messages: [{ role: 'user', content: 'one too many' }] }).catch((e: unknown) => e);
    expect(oaErr).toBeInstanceOf(RateLimitError);
    expect(Number((oaErr as RateLimitError).headers?.get('retry-after'))).toBeGreaterThan(0);

    // the four callers disconnect while their jobs are still queued
    gone.abort();
    expect(await Promise.all(left)).toEqual(['left', 'left', 'left', 'left']);
    await until(async () => (await outstanding('capped')) === 0, 'the tenant’s outstanding count back to 0');
    const counts = await queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active');
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(0);
    const upstream = stack.sim.calls({ withBodies: true }).filter((c) => texts.some((t) => JSON.stringify(c.body ?? null).includes(t ?? '')));
    expect(upstream).toHaveLength(0);
    // hanging up is normal: not logged as a failure
    const departures = (): number => (stack.apiLogs().match(/the caller went away before its answer|compatible endpoint failed/g) ?? []).length;
    await until(() => departures() >= 2, 'the streamed callers’ departures to be logged');
    expect(stack.apiLogs()).not.toContain('compatible endpoint failed');
    expect(stack.apiLogs()).toMatch(/"level":20,[^\n]*the caller went away before its answer/);
  });
});
