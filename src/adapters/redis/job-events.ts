import type { GenerationResult, StreamEvent } from '../../core/job.js';
import type { JobEvents } from '../../app/ports.js';
import { z } from 'zod';
import type { Part } from '../../core/request-content.js';
import { FAILURE_REASONS, type FailureReason, type Usage } from '../../core/types.js';
import type { RedisClient as Redis } from './connection.js';
import { viaRedis } from './errors.js';
import type { RedisKeys } from './keys.js';
import { defineScripts } from './scripts.js';

/**
 * A streamed job's events live in a Redis stream per job (readers that come
 * late, or resume after an id, read it) and are announced on a channel of
 * the same name (readers that listen get them at once). Entries: `t` the
 * type, `d` its JSON data; the entry id is the event id.
 */
export const EVENTS_MAX_ENTRIES = 10_000;
export const EVENTS_TTL_MS = 24 * 3_600_000;

type Scripted = Redis & {
  qfEvent(stream: string, type: string, data: string, maxLen: number, ttlMs: number): Promise<string>;
  qfEventRestart(stream: string, data: string, maxLen: number, ttlMs: number): Promise<string | null>;
};

/** The JobEvents port on Redis: one script per event (append, bound, expire, announce); restart appends a reset only after a chunk. */
export function createJobEventSink(redis: Redis, keys: RedisKeys): JobEvents {
  defineScripts(redis);
  const r = redis as Scripted;
  const add = (jobId: string, type: StreamEvent['type'], data: unknown): Promise<void> =>
    viaRedis('job event', async () => {
      await r.qfEvent(keys.jobEvents(jobId), type, JSON.stringify(data), EVENTS_MAX_ENTRIES, EVENTS_TTL_MS);
    });
  return {
    chunk: (jobId, c) => add(jobId, 'chunk', { text: c.text, parts: c.parts, ...(c.usage ? { usage: c.usage } : {}) }),
    reset: (jobId, reason) => add(jobId, 'reset', { reason }),
    done: (jobId, result) => add(jobId, 'done', { result }),
    error: (jobId, reason, message) => add(jobId, 'error', { reason, message }),
    restart: (jobId, reason) =>
      viaRedis('job event', async () => {
        await r.qfEventRestart(keys.jobEvents(jobId), JSON.stringify({ reason }), EVENTS_MAX_ENTRIES, EVENTS_TTL_MS);
      }),
  };
}

const eventData = {
  chunk: z.object({ text: z.string(), parts: z.array(z.record(z.string(), z.unknown())), usage: z.record(z.string(), z.number()).optional() }),
  reset: z.object({ reason: z.string() }),
  done: z.object({ result: z.record(z.string(), z.unknown()) }),
  error: z.object({ reason: z.enum(FAILURE_REASONS), message: z.string() }),
};

/**
 * One stored event read back, or null when it is not one (a foreign writer).
 * The payloads were written by a worker from typed values (createJobEventSink):
 * their shape is checked, their Gemini parts and result are taken as written.
 */
export function toStreamEvent(id: string, type: string, data: string): StreamEvent | null {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return null;
  }
  switch (type) {
    case 'chunk': {
      const d = eventData.chunk.safeParse(json);
      return d.success ? { type, id, text: d.data.text, parts: d.data.parts as Part[], ...(d.data.usage ? { usage: d.data.usage as unknown as Usage } : {}) } : null;
    }
    case 'reset': {
      const d = eventData.reset.safeParse(json);
      return d.success ? { type, id, reason: d.data.reason } : null;
    }
    case 'done': {
      const d = eventData.done.safeParse(json);
      return d.success ? { type, id, result: d.data.result as unknown as GenerationResult } : null;
    }
    case 'error': {
      const d = eventData.error.safeParse(json);
      return d.success ? { type, id, reason: d.data.reason, message: d.data.message } : null;
    }
    default:
      return null;
  }
}

/** Stream ids compare as (ms, seq). */
export function compareIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  return Number(am) - Number(bm) || Number(as) - Number(bs);
}
