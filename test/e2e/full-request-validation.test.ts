import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENERATION_QUEUE } from '../../src/adapters/queue/job-contract.js';
import { buildApiServer } from '../../src/api/server.js';
import { parseConfig } from '../../src/config.js';
import { ValidationError } from '../../src/errors.js';
import { createLogger } from '../../src/logger.js';
import { openSystem, type System } from '../../src/system.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { tenantConfigs } from '../helpers/tenants.js';

/**
 * Requests Gemini would refuse are refused before they are queued: over
 * HTTP (plain, `?stream=1`, `?wait=`) with 400 naming the field, from the
 * client with a ValidationError naming it. No job is created and no call
 * reaches the stand-in.
 */
const FLASH = 'gemini-2.5-flash';
const TOKEN = randomBytes(24).toString('hex');
const cfg = tenantConfigs({
  models: [FLASH],
  projects: { p1: { [FLASH]: { rpm: 10_000, tpm: 100_000_000, rpd: 100_000 } } },
  tenants: [{ id: 'alpha', keyMode: 'central-only', token: TOKEN }],
  keys: [{ id: 'c1', tenant: null, project: 'p1' }],
});

const CASES: Array<{ name: string; body: Record<string, unknown>; field: string }> = [
  {
    name: 'inline data over the per-request limit',
    // 5 MiB of image bytes: over the 4 MiB inline cap, under the API's body limit
    body: { contents: [{ role: 'user', parts: [{ text: 'look' }, { inlineData: { mimeType: 'image/png', data: randomBytes(5 * 1024 * 1024).toString('base64') } }] }] },
    field: 'contents.0.parts.1.inlineData.data',
  },
  {
    name: 'an unknown kind of part',
    body: { contents: [{ role: 'user', parts: [{ audioClip: { url: 'x' } }] }] },
    field: 'contents.0.parts.0.audioClip',
  },
  {
    name: 'a malformed response schema',
    body: { contents: 'hi', generationConfig: { responseMimeType: 'application/json', responseSchema: { type: 'OBJECT', properties: { size: { type: 'BANANA' } } } } },
    field: 'generationConfig.responseSchema.properties.size.type',
  },
];

let stack: Stack;
let sys: System;
let app: FastifyInstance;
let queue: Queue;

beforeAll(async () => {
  stack = await startStack({ name: 'full-request-validation', sim: cfg.sim });
  await stack.applyFleet(cfg.fleet);
  await stack.startWorker(['--concurrency', '2']);
  sys = await openSystem(parseConfig({ ...stack.env, LOG_LEVEL: 'warn' }), createLogger({ level: 'warn' }));
  app = await buildApiServer(sys);
  queue = new Queue(GENERATION_QUEUE, { connection: stack.redis, prefix: stack.prefix });
}, 60_000);
afterAll(async () => {
  await queue?.close();
  await app?.close();
  await sys?.close();
  await stack?.stop();
});

async function nothingHappened(): Promise<void> {
  const counts = await queue.getJobCounts();
  expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(0);
  expect(stack.sim.stats().totalCalls).toBe(0);
}

describe.each(CASES)('$name', ({ body, field }) => {
  it.each(['', '?stream=1', '?wait=10'])('POST /v1/generations%s answers 400 naming the field', async (query) => {
    const res = await app.inject({ method: 'POST', url: `/v1/generations${query}`, headers: { authorization: `Bearer ${TOKEN}` }, payload: body });
    expect(res.statusCode).toBe(400);
    const error = (res.json() as { error: { code: string; message: string; issues?: string[] } }).error;
    expect(error.code).toBe('invalid_input');
    expect(error.issues?.some((i) => i.startsWith(`${field}:`))).toBe(true);
    expect(res.headers['content-type']).toContain('application/json');
    await nothingHappened();
  });

  it('the client throws ValidationError naming the field (enqueue, generate, stream)', async () => {
    const request = { tenantId: 'alpha', ...body } as Parameters<typeof stack.client.enqueue>[0];
    const attempts = [
      stack.client.enqueue(request),
      stack.client.generate(request, { timeoutMs: 10_000 }),
      (async () => {
        for await (const e of stack.client.stream(request)) void e;
      })(),
    ];
    for (const attempt of attempts) {
      const err = await attempt.then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).issues.some((i) => i.startsWith(`${field}:`))).toBe(true);
    }
    await nothingHappened();
  });
});
