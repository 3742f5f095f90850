import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GenerationFailedError } from '../../src/adapters/queue/client.js';
import { compareIds } from '../../src/adapters/redis/job-events.js';
import { buildApiServer } from '../../src/api/server.js';
import { parseConfig } from '../../src/config.js';
import type { GenerationResult, StreamEvent } from '../../src/core/job.js';
import { createLogger } from '../../src/logger.js';
import { openSystem, type System } from '../../src/system.js';
import { allSse, readSse, type SseEvent } from '../helpers/sse.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { tenantConfigs } from '../helpers/tenants.js';

/**
 * Streamed answers through the queue, read with the Node client and over
 * SSE from an API server in this process: chunks arrive in order while the
 * stand-in is still writing, late readers get everything, Last-Event-ID
 * resumes without gaps or repeats (after the last event too), unstreamed
 * jobs read as one chunk, and a failure ends with one resumable `error`.
 */
const FLASH = 'gemini-2.5-flash';
const AMPLE = { [FLASH]: { rpm: 10_000, tpm: 100_000_000, rpd: 100_000 } };
const TOKEN = randomBytes(24).toString('hex');
const cfg = tenantConfigs({
  models: [FLASH],
  projects: { p1: AMPLE },
  tenants: [{ id: 'alpha', keyMode: 'central-only', token: TOKEN }],
  keys: [{ id: 'c1', tenant: null, project: 'p1' }],
  // ~25 chunks of 4 characters, 30 ms apart: the answer is still being written when its first chunk is read
  sim: { stream: { chunkChars: 4, chunkIntervalMs: 30 } },
});
const PROMPT = 'Tell me about the streams of the Black Forest, one after another, slowly.';
const FAIL = 'please fail [[simulate:bad-request]]';

/** One clock for the stand-in's writes and the readers' reads: a counter in this process. */
let tick = 0;
const written: number[] = [];
let stack: Stack;
let sys: System;
let app: FastifyInstance;
let base: string;
const auth = { authorization: `Bearer ${TOKEN}` };

beforeAll(async () => {
  stack = await startStack({ name: 'streaming-delivery', sim: cfg.sim, simOptions: { onChunkWritten: () => void written.push(++tick) } });
  await stack.applyFleet(cfg.fleet);
  await stack.startWorker(['--concurrency', '4']);
  sys = await openSystem(parseConfig({ ...stack.env, LOG_LEVEL: 'warn' }), createLogger({ level: 'warn' }));
  app = await buildApiServer(sys);
  base = await app.listen({ port: 0, host: '127.0.0.1' });
}, 60_000);
afterAll(async () => {
  await app?.close();
  await sys?.close();
  await stack?.stop();
});

const text = (events: readonly StreamEvent[]): string => events.map((e) => (e.type === 'chunk' ? e.text : '')).join('');
const ids = (events: ReadonlyArray<{ id?: string | undefined }>): string[] => events.map((e) => e.id ?? '');
const increasing = (list: readonly string[]): boolean => list.every((id, i) => i === 0 || compareIds(list[i - 1] ?? '', id) < 0);
const sseEvents = (jobId: string, lastEventId?: string): Promise<SseEvent[]> =>
  allSse(`${base}/v1/generations/${jobId}/events`, { headers: { ...auth, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) } });
async function collect(it: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  for await (const e of it) out.push(e);
  return out;
}

describe('through the client', () => {
  let events: StreamEvent[] = [];
  let jobId = '';

  it('chunks arrive in order with increasing ids while the stand-in still writes, and join into the answer', async () => {
    written.length = 0;
    let firstRead = 0;
    for await (const e of stack.client.stream({ tenantId: 'alpha', contents: PROMPT })) {
      if (e.type === 'chunk' && firstRead === 0) firstRead = ++tick;
      events.push(e);
    }
    const done = events.at(-1);
    if (done?.type !== 'done') throw new Error(`the stream did not end with done: ${JSON.stringify(events.at(-1))}`);
    jobId = done.result.jobId;
    const chunks = events.filter((e) => e.type === 'chunk');
    expect(events.map((e) => e.type)).toEqual([...chunks.map(() => 'chunk'), 'done']);
    expect(chunks.length).toBeGreaterThan(10);
    expect(increasing(ids(events))).toBe(true);
    expect(text(events)).toBe(done.result.text);
    expect(done.result.text).toContain('echo: Tell me about the streams');
    // one clock: the first chunk was in the reader's hands before the stand-in wrote its last
    expect(written).toHaveLength(chunks.length);
    expect(firstRead).toBeLessThan(Math.max(...written));
  });

  it('a reader attaching after the job finished gets every chunk and the result', async () => {
    const late = await collect(stack.client.streamJob(jobId));
    expect(late).toEqual(events);
  });

  it('resuming after any event, the last included, skips nothing and repeats nothing', async () => {
    for (let i = 0; i < events.length; i++) {
      const rest = await collect(stack.client.streamJob(jobId, { after: events[i]?.id ?? '' }));
      expect(ids(rest)).toEqual(ids(events.slice(i + 1)));
    }
  });

  it('a job that was not streamed reads as one chunk, then done, with resumable ids', async () => {
    const { jobId: id } = await stack.client.enqueue({ tenantId: 'alpha', contents: 'not streamed' });
    const all = await collect(stack.client.streamJob(id));
    expect(all.map((e) => e.type)).toEqual(['chunk', 'done']);
    const [chunk, done] = all;
    if (chunk?.type !== 'chunk' || done?.type !== 'done') throw new Error('unexpected events');
    expect(chunk.text).toBe(done.result.text);
    expect(ids(await collect(stack.client.streamJob(id, { after: chunk.id })))).toEqual([done.id]);
    expect(await collect(stack.client.streamJob(id, { after: done.id }))).toEqual([]);
  });

  it('a failed job throws GenerationFailedError carrying the error event id', async () => {
    const seen: StreamEvent[] = [];
    const err = await (async () => {
      for await (const e of stack.client.stream({ tenantId: 'alpha', contents: FAIL })) seen.push(e);
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GenerationFailedError);
    const failed = err as GenerationFailedError;
    expect(failed.reason).toBe('invalid_request');
    expect(failed.eventId).toMatch(/^\d+-\d+$/);
    expect(seen.filter((e) => e.type === 'chunk')).toEqual([]);
    // resuming after the error event ends at once, with no error repeated
    expect(await collect(stack.client.streamJob(failed.jobId, { after: failed.eventId ?? '' }))).toEqual([]);
  });
});

describe('over SSE', () => {
  let events: SseEvent[] = [];
  let jobId = '';

  it('POST ?stream=1: chunks in order with increasing ids while the stand-in still writes, joining into the result', async () => {
    written.length = 0;
    let firstRead = 0;
    for await (const e of readSse(`${base}/v1/generations?stream=1`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ contents: PROMPT }) }, (res) => {
      expect(res.status).toBe(200);
      jobId = res.headers.get('x-quotaflow-job-id') ?? '';
    })) {
      if (e.event === 'chunk' && firstRead === 0) firstRead = ++tick;
      events.push(e);
    }
    const chunks = events.filter((e) => e.event === 'chunk');
    expect(events.map((e) => e.event)).toEqual([...chunks.map(() => 'chunk'), 'done']);
    expect(increasing(ids(events))).toBe(true);
    const result = JSON.parse(events.at(-1)?.data ?? '{}') as GenerationResult;
    expect(result.jobId).toBe(jobId);
    expect(chunks.map((c) => (JSON.parse(c.data) as { text: string }).text).join('')).toBe(result.text);
    expect(written).toHaveLength(chunks.length);
    expect(firstRead).toBeLessThan(Math.max(...written));
  });

  it('GET /events after the job finished gives every event again', async () => {
    expect(await sseEvents(jobId)).toEqual(events);
  });

  it('Last-Event-ID after any event, the last included, skips nothing and repeats nothing', async () => {
    for (let i = 0; i < events.length; i++) {
      const rest = await sseEvents(jobId, events[i]?.id);
      expect(ids(rest)).toEqual(ids(events.slice(i + 1)));
    }
  });

  it('a job that was not streamed reads as one chunk then done, and resumes', async () => {
    const queued = await fetch(`${base}/v1/generations?wait=60`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ contents: 'not streamed either' }) });
    const { jobId: id } = (await queued.json()) as { jobId: string };
    const all = await sseEvents(id);
    expect(all.map((e) => e.event)).toEqual(['chunk', 'done']);
    expect(ids(await sseEvents(id, all[0]?.id))).toEqual([all[1]?.id]);
    expect(await sseEvents(id, all[1]?.id)).toEqual([]);
  });

  it('a failed job ends with one error event whose id resumes', async () => {
    let id = '';
    const all: SseEvent[] = [];
    const post = { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ contents: FAIL }) };
    for await (const e of readSse(`${base}/v1/generations?stream=1`, post, (res) => void (id = res.headers.get('x-quotaflow-job-id') ?? ''))) all.push(e);
    expect(all.map((e) => e.event)).toEqual(['error']);
    const error = all[0];
    expect(error?.id).toMatch(/^\d+-\d+$/);
    expect(JSON.parse(error?.data ?? '{}')).toMatchObject({ reason: 'invalid_request' });
    expect(await sseEvents(id)).toEqual(all);
    expect(await sseEvents(id, error?.id)).toEqual([]);
  });
});
