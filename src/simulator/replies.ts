/**
 * What the engine hands the HTTP layer: a JSON answer, or a stream plan (the
 * chunks, when to write them, and how the stream ends). The plan is data, so
 * the engine stays pure and the server only runs timers and writes bytes.
 */
import type { StreamSettings } from './config.js';
import type { GoogleErrorBody } from './error-bodies.js';
import type { StreamOverride } from './faults-schema.js';

export type StreamFailure = { how: 'error-event'; body: GoogleErrorBody } | { how: 'disconnect' };

export interface JsonReply {
  kind: 'json';
  status: number;
  body: unknown;
  /** Before the answer is written. */
  delayMs: number;
}

export interface StreamReply {
  kind: 'stream';
  /** GenerateContentResponse bodies, in order. */
  chunks: unknown[];
  /** Before the headers. */
  delayMs: number;
  /** After the headers, before the first chunk. */
  firstChunkDelayMs: number;
  /** Between chunks; 0 writes them back to back. */
  chunkIntervalMs: number;
  /** Instead of ending cleanly after the chunks. */
  failure?: StreamFailure;
  responseId: string;
}

export type SimReply = JsonReply | StreamReply;

export type StreamTiming = StreamSettings;

/** The config's stream settings with a fault rule's overrides on top. */
export function streamTiming(base: StreamSettings, override: StreamOverride | undefined): StreamTiming {
  if (!override) return base;
  return {
    chunkChars: override.chunkChars ?? base.chunkChars,
    firstChunkDelayMs: override.firstChunkDelayMs ?? base.firstChunkDelayMs,
    chunkIntervalMs: override.chunkIntervalMs ?? base.chunkIntervalMs,
  };
}

export function streamReply(chunks: unknown[], delayMs: number, timing: StreamTiming, responseId: string, failure?: StreamFailure): StreamReply {
  const reply: StreamReply = {
    kind: 'stream',
    chunks,
    delayMs,
    firstChunkDelayMs: timing.firstChunkDelayMs,
    chunkIntervalMs: timing.chunkIntervalMs,
    responseId,
  };
  if (failure) reply.failure = failure;
  return reply;
}
