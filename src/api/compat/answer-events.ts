import type { GenerationResult, StreamEvent } from '../../core/job.js';
import type { Part } from '../../core/request.js';
import { failureProblem, problemOf, type Problem } from './problems.js';

/** A safety block: the prompt was refused, or the answer was withheld (finishReason SAFETY, RECITATION, ...). */
export interface Block {
  scope: 'prompt' | 'response';
  /** Gemini's blockReason or finishReason */
  reason: string;
}

const BLOCK = /\b(prompt|response) blocked: ([A-Z_]+)/;

/** Reads a blocked job's message ("prompt blocked: SAFETY", "response blocked: RECITATION"). */
export function blockOf(message: string): Block {
  const m = BLOCK.exec(message);
  return { scope: m?.[1] === 'response' ? 'response' : 'prompt', reason: m?.[2] ?? 'OTHER' };
}

/**
 * What one streamed HTTP answer shows of a job, ending with exactly one of
 * done, blocked or failed. A `reset` before any chunk reached this caller is
 * invisible (there is nothing to take back); after one it ends the answer as
 * `interrupted`, since neither protocol can retract bytes already sent.
 */
export type AnswerEvent =
  | { type: 'chunk'; parts: Part[] }
  | { type: 'done'; result: GenerationResult }
  | { type: 'blocked'; block: Block }
  | { type: 'failed'; problem: Problem };

export type TerminalEvent = Exclude<AnswerEvent, { type: 'chunk' }>;

function interrupted(chunks: number, reason: string): AnswerEvent {
  return {
    type: 'failed',
    problem: {
      kind: 'interrupted',
      message: `the answer was interrupted after ${chunks} chunk(s): its upstream attempt failed (${reason}) and the job goes on with the next candidate; a request repeated with the same Idempotency-Key gets the job's answer (without streaming, or streamed once the job has finished)`,
    },
  };
}

async function nextOrAbort<T>(it: AsyncIterator<T>, signal: AbortSignal): Promise<IteratorResult<T> | 'aborted'> {
  if (signal.aborted) return 'aborted';
  let onAbort = (): void => undefined;
  const aborted = new Promise<'aborted'>((resolve) => {
    onAbort = () => resolve('aborted');
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([it.next(), aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

function fromStreamEvent(ev: Exclude<StreamEvent, { type: 'chunk' | 'reset' }>): TerminalEvent {
  if (ev.type === 'done') return { type: 'done', result: ev.result };
  if (ev.reason === 'blocked') return { type: 'blocked', block: blockOf(ev.message) };
  return { type: 'failed', problem: failureProblem(ev.reason, ev.message) };
}

/**
 * Turns a job's events into one answer's events. Stops reading when `signal`
 * aborts (deadline or caller gone): `deadline` describes the first.
 */
export async function* answerEvents(events: AsyncIterable<StreamEvent>, signal: AbortSignal, deadline: () => Problem | null): AsyncGenerator<AnswerEvent> {
  const it = events[Symbol.asyncIterator]();
  let sent = 0;
  try {
    for (;;) {
      const next = await nextOrAbort(it, signal);
      if (next === 'aborted' || next.done === true) break;
      const ev = next.value;
      if (ev.type === 'chunk') {
        if (ev.parts.length === 0) continue;
        sent++;
        yield { type: 'chunk', parts: ev.parts };
      } else if (ev.type === 'reset') {
        if (sent === 0) continue;
        yield interrupted(sent, ev.reason);
        return;
      } else {
        yield fromStreamEvent(ev);
        return;
      }
    }
  } catch (err) {
    if (!signal.aborted) {
      yield { type: 'failed', problem: problemOf(err) };
      return;
    }
  } finally {
    it.return?.().catch(() => undefined);
  }
  yield { type: 'failed', problem: deadline() ?? { kind: 'internal', message: "the job's event stream ended before its answer" } };
}
