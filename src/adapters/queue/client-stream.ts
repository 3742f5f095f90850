import type { GenerationResult, StreamEvent } from '../../core/job.js';
import { NotFoundError } from '../../errors.js';
import type { EventReader } from '../redis/event-reader.js';
import type { AttemptRecord } from './job-contract.js';
import type { JobStatus } from './client.js';

/** How a streamed job's reader learns about the job itself (not only its events). */
export interface StreamDeps {
  reader: EventReader;
  status(jobId: string): Promise<JobStatus | null>;
  /** whether the job asked to be streamed (a job that did not is read as one chunk) */
  isStreamed(jobId: string): Promise<boolean | null>;
  wait(jobId: string, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<GenerationResult>;
  failure(jobId: string, reason: Extract<JobStatus, { state: 'failed' }>['reason'], message: string, attempts: AttemptRecord[]): Error;
}

/** The whole answer as one chunk event, for a job that was not streamed or whose events are gone. */
function asChunk(result: GenerationResult): StreamEvent {
  return { type: 'chunk', id: 'result-0', text: result.text, parts: result.parts, usage: result.usage };
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
    if (!streamed) {
      const result = await deps.wait(jobId, { timeoutMs: opts.timeoutMs ?? 300_000, ...(opts.signal ? { signal: opts.signal } : {}) });
      yield asChunk(result);
      yield { type: 'done', id: 'result-1', result };
      return;
    }
    let chunks = 0;
    const onIdle = async (): Promise<StreamEvent | 'wait' | 'end'> => {
      // no event for a while: the job may have ended without one reaching us (its events expired, a crash)
      const s = await deps.status(jobId);
      if (!s) return 'end';
      if (s.state === 'completed') return { type: 'done', id: 'result-1', result: s.result };
      if (s.state === 'failed') return { type: 'error', id: 'result-1', reason: s.reason, message: s.message };
      return 'wait';
    };
    for await (const e of deps.reader.follow(jobId, { ...(opts.after ? { after: opts.after } : {}), ...(opts.signal ? { signal: opts.signal } : {}), idleMs: 5_000, onIdle })) {
      if (e.type === 'error') {
        const s = await deps.status(jobId).catch(() => null);
        throw deps.failure(jobId, e.reason, e.message, s && 'attempts' in s ? s.attempts : []);
      }
      if (e.type === 'done' && chunks === 0 && opts.after === undefined) yield asChunk(e.result);
      if (e.type === 'chunk') chunks++;
      if (e.type === 'reset') chunks = 0;
      yield e;
      if (e.type === 'done') return;
    }
  };
}
