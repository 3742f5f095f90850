import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GenerationRequestInput } from '../../src/core/request.js';
import type { StreamEvent } from '../../src/core/job.js';
import { schemaProblems } from '../helpers/json-schema.js';
import { imageBytes } from '../helpers/media.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { tenantConfigs } from '../helpers/tenants.js';

/**
 * A whole Gemini request through the queue and a worker to the stand-in:
 * a conversation with an image, a system instruction, tools, safety
 * settings, a thinking budget and labels gets a function call (with its
 * thought signature); sent back with the function's response, the final
 * answer. What reached the stand-in is what was sent. A responseSchema
 * answer fits its schema, whole and streamed (counts given as strings, as
 * @google/genai sends them).
 */
const FLASH = 'gemini-2.5-flash';
const AMPLE = { [FLASH]: { rpm: 10_000, tpm: 100_000_000, rpd: 100_000 } };
const cfg = tenantConfigs({
  models: [FLASH],
  projects: { p1: AMPLE },
  tenants: [{ id: 'alpha', keyMode: 'central-only' }],
  keys: [{ id: 'c1', tenant: null, project: 'p1' }],
  sim: { recordBodies: true, stream: { chunkChars: 8 } },
});
const PNG = Buffer.from(imageBytes('png', 16, 16)).toString('base64');

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ name: 'full-request', sim: cfg.sim });
  await stack.applyFleet(cfg.fleet);
  await stack.startWorker(['--concurrency', '4']);
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});

const lastBody = (): Record<string, unknown> => {
  const calls = stack.sim.calls({ withBodies: true }).filter((c) => c.method === 'generateContent' || c.method === 'streamGenerateContent');
  return (calls.at(-1)?.body ?? {}) as Record<string, unknown>;
};

describe('a conversation with a function call', () => {
  const firstTurn = { role: 'user' as const, parts: [{ text: 'Where is my order 4711? Here is the label.' }, { inlineData: { mimeType: 'image/png', data: PNG } }] };
  const settings = {
    systemInstruction: { parts: [{ text: 'You are the support desk of a bike shop. Answer briefly.' }] },
    tools: [
      {
        functionDeclarations: [
          {
            name: 'get_order_status',
            description: 'The shipping status of an order',
            parameters: { type: 'OBJECT', properties: { orderId: { type: 'STRING', description: 'the order number' } }, required: ['orderId'] },
          },
        ],
      },
    ],
    toolConfig: { functionCallingConfig: { mode: 'AUTO' } },
    safetySettings: [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_ONLY_HIGH' }],
    generationConfig: { temperature: 0.3, thinkingConfig: { thinkingBudget: 512 } },
    labels: { team: 'support', channel: 'web' },
  } satisfies Partial<GenerationRequestInput>;

  it('answers with a function call carrying its thought signature, then the final answer after the function response', async () => {
    const first = await stack.client.generate({ tenantId: 'alpha', contents: [firstTurn], ...settings }, { timeoutMs: 60_000 });
    expect(lastBody()).toEqual({ contents: [firstTurn], ...settings });
    const call = first.parts.find((p) => p.functionCall);
    expect(call?.functionCall?.name).toBe('get_order_status');
    expect(typeof call?.functionCall?.args?.['orderId']).toBe('string');
    expect(call?.thoughtSignature).toEqual(expect.any(String));
    expect(call?.thoughtSignature?.length).toBeGreaterThan(0);

    const contents = [
      firstTurn,
      { role: 'model' as const, parts: first.parts },
      { role: 'user' as const, parts: [{ functionResponse: { name: 'get_order_status', response: { status: 'shipped', eta: 'tomorrow' }, ...(call?.functionCall?.id ? { id: call.functionCall.id } : {}) } }] },
    ];
    const second = await stack.client.generate({ tenantId: 'alpha', contents, ...settings }, { timeoutMs: 60_000 });
    // the model turn went back unchanged, thought signature included
    expect(lastBody()).toEqual({ contents, ...settings });
    expect(second.text).toContain('get_order_status returned {"status":"shipped","eta":"tomorrow"}');
    expect(second.parts.some((p) => p.functionCall)).toBe(false);
  });
});

describe('JSON output', () => {
  // counts as strings: what @google/genai sends for int64 fields
  const schema = {
    type: 'OBJECT',
    properties: {
      product: { type: 'STRING', maxLength: '12' },
      tags: { type: 'ARRAY', items: { type: 'STRING', maxLength: '5' }, minItems: '2', maxItems: '3' },
      rating: { type: 'INTEGER', minimum: 1, maximum: 5 },
      code: { type: 'STRING', minLength: '20' },
    },
    required: ['product', 'tags', 'rating', 'code'],
  };
  const request = (): GenerationRequestInput => ({
    tenantId: 'alpha',
    contents: 'Describe the blue city bike in a structured way.',
    generationConfig: { responseMimeType: 'application/json', responseSchema: schema as never },
  });

  it('a whole answer fits the schema', async () => {
    const r = await stack.client.generate(request(), { timeoutMs: 60_000 });
    const value: unknown = JSON.parse(r.text);
    expect(schemaProblems(value, schema)).toEqual([]);
  });

  it('a streamed answer joins into JSON that fits the schema', async () => {
    const events: StreamEvent[] = [];
    for await (const e of stack.client.stream(request())) events.push(e);
    const chunks = events.filter((e) => e.type === 'chunk');
    expect(chunks.length).toBeGreaterThan(1);
    const joined = chunks.map((c) => (c.type === 'chunk' ? c.text : '')).join('');
    const done = events.at(-1);
    expect(done?.type).toBe('done');
    expect(done?.type === 'done' ? done.result.text : '').toBe(joined);
    expect(schemaProblems(JSON.parse(joined), schema)).toEqual([]);
  });
});
