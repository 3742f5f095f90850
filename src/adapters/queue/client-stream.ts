import type { GenerationResult, StreamEvent } from '../../core/job.js';
import { NotFoundError } from '../../errors.js';
import type { EventReader } from '../redis/event-reader.js';
import { compareIds } from '../redis/job-events.js';
import type { AttemptRecord } from './job-contract.js';
import type { JobStatus } from './client.js';

/** How a streamed job's reader learns about the job itself (not only its events). */
export interface StreamDeps {
  reader: EventReader;
  status(jobId: string): Promise<JobStatus | null>;
  /** whether the job asked to be streamed (a job that did not is read as one chunk) */
  isStreamed(jobId: string): Promise<boolean | null>;
  wait(jobId: string, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<GenerationResult>;
  failure(jobId: string, reason: Extract<JobStatus, { state: 'failed' }>['reason'], message: string, attempts: AttemptRecord[], eventId: string): Error;
}

/**
 * Ids of the events made up for a job without stored events (not streamed,
 * or its events are gone): the answer as one chunk, then the end. Shaped
 * like stream ids and before any real one, so resuming after them works.
 */
export const UNSTREAMED_EVENT_IDS = { chunk: '0-1', end: '0-2' } as const;

/** The whole answer as one chunk event, for a job that was not streamed or whose events are gone. */
function asChunk(result: GenerationResult): StreamEvent {
  return { type: 'chunk', id: UNSTREAMED_EVENT_IDS.chunk, text: result.text, parts: result.parts, usage: result.usage };
}

/** An unstreamed job read as events: one chunk, then done (a failure throws, carrying the end's id). */
async function* unstreamed(deps: StreamDeps, jobId: string, opts: { after?: string; signal?: AbortSignal; timeoutMs?: number }): AsyncGenerator<StreamEvent> {
  const after = opts.after ?? '0-0';
  if (compareIds(after, UNSTREAMED_EVENT_IDS.end) >= 0) return;
  let result: GenerationResult;
  try {
    result = await deps.wait(jobId, { timeoutMs: opts.timeoutMs ?? 300_000, ...(opts.signal ? { signal: opts.signal } : {}) });
  } catch (err) {
    const s = opts.signal?.aborted ? null : await deps.status(jobId).catch(() => null);
    if (s?.state === 'failed') throw deps.failure(jobId, s.reason, s.message, s.attempts, UNSTREAMED_EVENT_IDS.end);
    throw err;
  }
  if (compareIds(after, UNSTREAMED_EVENT_IDS.chunk) < 0) yield asChunk(result);
  yield { type: 'done', id: UNSTREAMED_EVENT_IDS.end, result };
}

/**
 * A job's events as an async iterator: `chunk`s (and `reset` when an
 * attempt failed after chunks went out: drop the partial answer), ending
 * with `done` (the result); a failed job throws GenerationFailedError. A
 * reader that attaches late gets every chunk it missed; `after` resumes after
 * an event id. A job that was not streamed yields its answer as one chunk.
 */
export function createStreamFollower(deps: StreamDeps) {
  return async function* streamJob(jobId: string, opts: { after?: string; signal?: AbortSignal; timeoutMs?: number } = {}): AsyncGenerator<StreamEvent> {
    const streamed = await deps.isStreamed(jobId);
    if (streamed === null) throw new NotFoundError(`no generation ${jobId}`);
    if (!streamed) return yield* unstreamed(deps, jobId, opts);
    // resumed after a made-up end (the job's events were gone): nothing follows it
    if (opts.after === UNSTREAMED_EVENT_IDS.end) return;
    let chunks = 0;
    const onIdle = async (): Promise<StreamEvent | 'wait' | 'end'> => {
      // no event for a while: the job may have ended without one reaching us (its events expired, a crash)
      const s = await deps.status(jobId);
      if (!s) return 'end';
      if (s.state === 'completed') return { type: 'done', id: UNSTREAMED_EVENT_IDS.end, result: s.result };
      if (s.state === 'failed') return { type: 'error', id: UNSTREAMED_EVENT_IDS.end, reason: s.reason, message: s.message };
      return 'wait';
    };
    for await (const e of deps.reader.follow(jobId, { ...(opts.after ? { after: opts.after } : {}), ...(opts.signal ? { signal: opts.signal } : {}), idleMs: 5_000, onIdle })) {
      if (e.type === 'error') {
        const s = await deps.status(jobId).catch(() => null);
        throw deps.failure(jobId, e.reason, e.message, s && 'attempts' in s ? s.attempts : [], e.id);
      }
      if (e.type === 'done' && chunks === 0 && opts.after === undefined) yield asChunk(e.result);
      if (e.type === 'chunk') chunks++;
      if (e.type === 'reset') chunks = 0;
      yield e;
      if (e.type === 'done') return;
    }
  };
}
