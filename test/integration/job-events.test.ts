/**
 * A job's event stream on real Redis: the sink's scripts and the reader's
 * resume. Resuming at the end ends at once (nothing repeated, no idle
 * wait), and a pass that starts after an attempt was cut off mid-answer
 * writes exactly one reset.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GenerationResult, StreamEvent } from '../../src/core/job.js';
import { createEventReader } from '../../src/adapters/redis/event-reader.js';
import { createJobEventSink } from '../../src/adapters/redis/job-events.js';
import { redisKeys } from '../../src/adapters/redis/keys.js';
import { TEST_REDIS_URL, dropPrefix, testPrefix } from '../helpers/redis.js';

const prefix = testPrefix('job-events');
const keys = redisKeys(prefix);
let redis: Redis;
let reader: ReturnType<typeof createEventReader>;
const usage = { promptTokens: 1, candidatesTokens: 2, totalTokens: 3, thoughtsTokens: 0, cachedTokens: 0 };
const result: GenerationResult = {
  jobId: 'j',
  text: 'ab',
  parts: [{ text: 'ab' }],
  model: 'm',
  keyId: 'k',
  project: 'p',
  central: false,
  usage,
  finishReason: 'STOP',
  safetyRatings: [],
  modelVersion: null,
  responseId: null,
  attempts: [],
};

beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL);
  reader = createEventReader({ redis, subscriber: () => new Redis(TEST_REDIS_URL), keys });
});
afterAll(async () => {
  await reader.close();
  redis.disconnect();
  await dropPrefix(prefix);
});

/** Reads everything a follow yields; counts how often it fell back to asking about the job. */
async function readAll(jobId: string, after?: string): Promise<{ events: StreamEvent[]; idle: number }> {
  let idle = 0;
  const events: StreamEvent[] = [];
  const onIdle = (): Promise<StreamEvent | 'end'> => {
    idle++;
    return Promise.resolve({ type: 'done', id: 'from-job', result });
  };
  for await (const e of reader.follow(jobId, { ...(after ? { after } : {}), idleMs: 2_000, onIdle })) events.push(e);
  return { events, idle };
}

describe('resuming a finished stream', () => {
  it.each(['done', 'error'] as const)('after its last event (%s) ends at once with nothing repeated', async (end) => {
    const sink = createJobEventSink(redis, keys);
    const jobId = `resume-${end}`;
    await sink.chunk(jobId, { text: 'a', parts: [{ text: 'a' }] });
    await sink.chunk(jobId, { text: 'b', parts: [{ text: 'b' }] });
    if (end === 'done') await sink.done(jobId, result);
    else await sink.error(jobId, 'deadline', 'too late');
    const all = await readAll(jobId);
    expect(all.events.map((e) => e.type)).toEqual(['chunk', 'chunk', end]);
    for (let i = 0; i < all.events.length; i++) {
      const after = all.events[i]?.id;
      const rest = await readAll(jobId, after);
      expect(rest.idle).toBe(0);
      expect(rest.events.map((e) => e.id)).toEqual(all.events.slice(i + 1).map((e) => e.id));
    }
  });
});

describe('restart', () => {
  const types = async (jobId: string): Promise<string[]> => (await redis.xrange(keys.jobEvents(jobId), '-', '+')).map(([, f]) => f[1] ?? '');

  it('writes a reset only when the last event is a chunk, once, and announces it', async () => {
    const sink = createJobEventSink(redis, keys);
    const jobId = 'restart-1';
    await sink.restart(jobId, 'fresh job');
    expect(await types(jobId)).toEqual([]);
    await sink.chunk(jobId, { text: 'a', parts: [{ text: 'a' }] });
    const seen: StreamEvent[] = [];
    const follower = (async () => {
      for await (const e of reader.follow(jobId, { idleMs: 60_000 })) {
        seen.push(e);
        if (e.type === 'reset') return;
      }
    })();
    // the follower is subscribed once it has read the backlog (the chunk)
    while (seen.length === 0) await new Promise((r) => setTimeout(r, 10));
    await sink.restart(jobId, 'the previous attempt was interrupted');
    await sink.restart(jobId, 'twice');
    await follower;
    expect(seen.map((e) => e.type)).toEqual(['chunk', 'reset']);
    expect(seen[1]).toMatchObject({ reason: 'the previous attempt was interrupted' });
    expect(await types(jobId)).toEqual(['chunk', 'reset']);
    await sink.done(jobId, result);
    await sink.restart(jobId, 'after the end');
    expect(await types(jobId)).toEqual(['chunk', 'reset', 'done']);
  });
});
