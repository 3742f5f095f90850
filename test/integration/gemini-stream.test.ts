import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createGeminiPool, type GeminiPort, type StreamChunk } from '../../src/adapters/gemini/index.js';
import type { Outcome } from '../../src/core/outcome.js';
import { parseGenerationRequest } from '../../src/core/request.js';
import { parseSimulatorConfig, startSimulator, type SimulatorHandle } from '../../src/simulator/index.js';
import { geminiErrorFixture } from '../helpers/fixtures.js';

/**
 * Streaming and function calls through the real @google/genai SDK: against
 * the stand-in (whatever number of chunks it streams), and against a tiny
 * local server that answers fixed function-call bodies and SSE streams that
 * fail part-way.
 */
const request = (contents: unknown, extra: Record<string, unknown> = {}): ReturnType<typeof parseGenerationRequest> =>
  parseGenerationRequest({ tenantId: 't1', contents, stream: true, ...extra });

function collect(): { chunks: StreamChunk[]; onChunk: (c: StreamChunk) => void } {
  const chunks: StreamChunk[] = [];
  return { chunks, onChunk: (c) => void chunks.push(c) };
}

describe('generateStream against the stand-in', () => {
  let sim: SimulatorHandle;
  let pool: GeminiPort;
  beforeAll(async () => {
    sim = await startSimulator(
      parseSimulatorConfig({ projects: [{ id: 'p1', keys: [{ secret: 'k-sim-1' }] }], models: { 'gemini-2.5-flash': { rpm: 1_000, tpm: 1_000_000, rpd: 10_000 }, scarce: { rpm: 1, tpm: 1_000_000, rpd: 10_000 } } }),
    );
    pool = createGeminiPool({ baseUrl: sim.url, timeoutMs: 5_000, secretOf: (id) => (id === 'k1' ? 'k-sim-1' : undefined) });
  });
  afterAll(async () => {
    await sim.close();
  });
  beforeEach(() => sim.reset());

  it('hands over at least one chunk, in order; the outcome joins them and carries the last usage', async () => {
    const { chunks, onChunk } = collect();
    const { outcome } = await pool.generateStream({ keyId: 'k1', model: 'gemini-2.5-flash', request: request('Tell me about streams, please') }, onChunk);
    expect(outcome.kind).toBe('success');
    if (outcome.kind !== 'success') return;
    expect(chunks.length).toBeGreaterThanOrEqual(1);
    expect(outcome.text.length).toBeGreaterThan(0);
    expect(chunks.map((c) => c.text).join('')).toBe(outcome.text);
    const usages = chunks.flatMap((c) => (c.usage ? [c.usage] : []));
    expect(usages.at(-1)).toEqual(outcome.usage);
    // cumulative counts never go down
    usages.forEach((u, i) => expect(u.candidatesTokens).toBeGreaterThanOrEqual(usages[i - 1]?.candidatesTokens ?? 0));
    expect(outcome.usage.promptTokens).toBeGreaterThan(0);
    expect(sim.stats().calls.map((c) => c.method)).toEqual(['streamGenerateContent']);
  });

  it('a failure before the first chunk is an ordinary failure', async () => {
    const call = { keyId: 'k1', model: 'scarce', request: request('one') };
    expect((await pool.generateStream(call, () => undefined)).outcome.kind).toBe('success');
    const { chunks, onChunk } = collect();
    const { outcome } = await pool.generateStream(call, onChunk);
    expect(outcome).toMatchObject({ kind: 'failure', status: 429 });
    expect(outcome).not.toHaveProperty('chunksDelivered');
    expect(chunks).toEqual([]);
  });
});

// ------------------------------------------------------------ local server

const SIGNATURE = 'Q2lRQjBlMmx2YmFzZTY0c2lnbmF0dXJl';
const CALL = { functionCall: { name: 'get_weather', args: { city: 'Paris', unit: 'C' }, id: 'fc-7' }, thoughtSignature: SIGNATURE };
const usage = (out: number): Record<string, number> => ({ promptTokenCount: 12, candidatesTokenCount: out, totalTokenCount: 12 + out + 20, thoughtsTokenCount: 20 });
const body = (parts: unknown[], extra: Record<string, unknown> = {}, candidate: Record<string, unknown> = {}): Record<string, unknown> => ({
  candidates: [{ content: { role: 'model', parts }, index: 0, ...candidate }],
  modelVersion: 'local-1',
  responseId: 'resp-local',
  ...extra,
});

const STREAMS: Record<string, Array<Record<string, unknown>>> = {
  tools: [
    body([{ text: 'The user wants weather.', thought: true }]),
    body([{ text: 'Let me ' }]),
    body([{ text: 'check.' }, CALL], { usageMetadata: usage(6) }),
    body([{ text: '', thoughtSignature: 'ZW5k' }], { usageMetadata: usage(7) }, { finishReason: 'STOP' }),
  ],
  partial: [body([{ text: 'One, ' }]), body([{ text: 'two, ' }], { usageMetadata: usage(2) })],
  withheld: [body([{ text: 'Sure, here is' }]), body([], { usageMetadata: usage(4) }, { finishReason: 'SAFETY' })],
};

interface Seen {
  url: string;
  body: string;
  closedEarly: boolean;
}
let seen: Seen[] = [];
let server: Server;
let local: GeminiPort;

/** Writes the events; `then` runs once they are flushed to the socket. */
function sse(res: ServerResponse, events: unknown[], then: () => void): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  events.forEach((e, i) => res.write(`data: ${JSON.stringify(e)}\r\n\r\n`, i === events.length - 1 ? then : undefined));
}

/** Model names pick the answer: `<name>` for a stream, `:generateContent` for a whole body. */
function answer(model: string, stream: boolean, res: ServerResponse): void {
  if (!stream) {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body([CALL], { usageMetadata: usage(5) }, { finishReason: 'STOP' })));
    return;
  }
  const events = STREAMS[model.replace(/-(cut|error|hang)$/, '')] ?? [];
  if (model === 'quota') {
    res.writeHead(429, { 'content-type': 'application/json' }).end(geminiErrorFixture('429-tpm-per-minute.json'));
    return;
  }
  sse(res, events, () => {
    if (model.endsWith('-cut')) res.destroy(); // the connection drops mid-answer
    else if (model.endsWith('-error')) res.end(`data: ${JSON.stringify({ error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' } })}\r\n\r\n`);
    else if (!model.endsWith('-hang')) res.end();
  });
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString('utf8')));
    req.on('end', () => {
      const entry: Seen = { url: req.url ?? '', body: text, closedEarly: false };
      seen.push(entry);
      res.on('close', () => (entry.closedEarly = !res.writableFinished));
      const m = /\/models\/([^/:?]+):(generateContent|streamGenerateContent)/.exec(req.url ?? '');
      answer(m?.[1] ?? '', m?.[2] === 'streamGenerateContent', res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  local = createGeminiPool({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 5_000, secretOf: (id) => (id === 'k1' ? 'local-secret' : undefined) });
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  seen = [];
});

const failed = (o: Outcome): Extract<Outcome, { kind: 'failure' }> => {
  if (o.kind !== 'failure') throw new Error(`expected a failure, got ${JSON.stringify(o)}`);
  return o;
};

describe('function calls', () => {
  it('a function call with no text is a success, and its parts go back unchanged next turn', async () => {
    const first = request('Weather in Paris?', { stream: false });
    const { outcome } = await local.generate({ keyId: 'k1', model: 'fc', request: first });
    expect(outcome).toMatchObject({ kind: 'success', text: '', parts: [CALL], finishReason: 'STOP', usage: { thoughtsTokens: 20 } });
    if (outcome.kind !== 'success') return;

    const next = request([
      { role: 'user', parts: [{ text: 'Weather in Paris?' }] },
      { role: 'model', parts: outcome.parts },
      { role: 'user', parts: [{ functionResponse: { name: 'get_weather', id: 'fc-7', response: { output: { tempC: 21 } } } }] },
    ]);
    await local.generate({ keyId: 'k1', model: 'fc', request: next });
    const sent = JSON.parse(seen[1]?.body ?? '{}') as { contents?: Array<{ parts?: unknown[] }> };
    expect(sent.contents?.[1]?.parts).toEqual([CALL]);
    expect(sent.contents?.[2]?.parts).toEqual([{ functionResponse: { name: 'get_weather', id: 'fc-7', response: { output: { tempC: 21 } } } }]);
  });
});

describe('generateStream against a local SSE server', () => {
  it('streams thoughts, text and a function call; the outcome merges them in order', async () => {
    const { chunks, onChunk } = collect();
    const { outcome } = await local.generateStream({ keyId: 'k1', model: 'tools', request: request('Weather?') }, onChunk);
    expect(seen[0]?.url).toContain('/models/tools:streamGenerateContent?alt=sse');
    expect(chunks.map((c) => c.text)).toEqual(['', 'Let me ', 'check.', '']);
    expect(chunks[2]?.parts).toEqual([{ text: 'check.' }, CALL]);
    expect(chunks.map((c) => c.usage?.candidatesTokens)).toEqual([undefined, undefined, 6, 7]);
    expect(outcome).toEqual({
      kind: 'success',
      text: 'Let me check.',
      parts: [{ text: 'The user wants weather.', thought: true }, { text: 'Let me check.' }, CALL, { text: '', thoughtSignature: 'ZW5k' }],
      usage: { promptTokens: 12, candidatesTokens: 7, totalTokens: 39, thoughtsTokens: 20, cachedTokens: 0 },
      finishReason: 'STOP',
      safetyRatings: [],
      modelVersion: 'local-1',
      responseId: 'resp-local',
    });
  });

  it('a dropped connection after k chunks is a failure that says k', async () => {
    const { chunks, onChunk } = collect();
    const { outcome } = await local.generateStream({ keyId: 'k1', model: 'partial-cut', request: request('count') }, onChunk);
    expect(chunks.map((c) => c.text)).toEqual(['One, ', 'two, ']);
    expect(failed(outcome)).toMatchObject({ failure: 'network', status: null, chunksDelivered: 2 });
  });

  it('an error event mid-stream is classified like the same HTTP error, with the chunks counted', async () => {
    const { chunks, onChunk } = collect();
    const { outcome } = await local.generateStream({ keyId: 'k1', model: 'partial-error', request: request('count') }, onChunk);
    expect(chunks).toHaveLength(2);
    expect(failed(outcome)).toMatchObject({ failure: 'overloaded', status: 503, chunksDelivered: 2 });
  });

  it('an answer withheld after text went out is blocked, with the chunks counted', async () => {
    const { chunks, onChunk } = collect();
    const { outcome } = await local.generateStream({ keyId: 'k1', model: 'withheld', request: request('x') }, onChunk);
    expect(chunks.map((c) => c.text)).toEqual(['Sure, here is']);
    expect(failed(outcome)).toMatchObject({ failure: 'blocked', chunksDelivered: 1 });
  });

  it('an HTTP error before any chunk is an ordinary failure', async () => {
    const { chunks, onChunk } = collect();
    const { outcome } = await local.generateStream({ keyId: 'k1', model: 'quota', request: request('x') }, onChunk);
    expect(chunks).toEqual([]);
    expect(failed(outcome)).toMatchObject({ failure: 'rate_minute', status: 429, retryAfterMs: 26_000 });
    expect(outcome).not.toHaveProperty('chunksDelivered');
  });

  it("the caller's abort ends a stream as a timeout, with the chunks counted", async () => {
    const ctrl = new AbortController();
    const { outcome } = await local.generateStream({ keyId: 'k1', model: 'partial-hang', request: request('x'), signal: ctrl.signal }, (c) => {
      if (c.usage) ctrl.abort(); // the second chunk carries usage
    });
    expect(failed(outcome)).toMatchObject({ failure: 'timeout', chunksDelivered: 2 });
  });

  it('a consumer that fails stops the upstream call; the adapter still does not throw', async () => {
    const { outcome } = await local.generateStream({ keyId: 'k1', model: 'partial-hang', request: request('x') }, async () => {
      await Promise.resolve();
      throw new Error('publish failed');
    });
    expect(failed(outcome)).toMatchObject({ failure: 'network', chunksDelivered: 1, message: expect.stringContaining('consumer') });
    await expect.poll(() => seen[0]?.closedEarly).toBe(true);
  });

  it('awaits each chunk before handing the next', async () => {
    const order: string[] = [];
    await local.generateStream({ keyId: 'k1', model: 'tools', request: request('x') }, async (c) => {
      order.push(`start ${c.parts.length}`);
      await new Promise((r) => setTimeout(r, 5));
      order.push('end');
    });
    expect(order).toEqual(['start 1', 'end', 'start 1', 'end', 'start 2', 'end', 'start 1', 'end']);
  });

  it('an unknown key is a key_invalid outcome and sends nothing', async () => {
    const { outcome } = await local.generateStream({ keyId: 'nobody', model: 'tools', request: request('x') }, () => undefined);
    expect(failed(outcome)).toMatchObject({ failure: 'key_invalid' });
    expect(seen).toHaveLength(0);
  });
});
