import type { FastifyReply } from 'fastify';
import { GenerationFailedError, GenerationTimeoutError } from '../../adapters/queue/client.js';
import type { GenerationResult } from '../../core/job.js';
import type { GenerationRequestInput } from '../../core/request.js';
import type { Tenant } from '../../core/types.js';
import { errorMessage } from '../../errors.js';
import { answerEvents, blockOf, type AnswerEvent, type Block } from './answer-events.js';
import type { CallOptions } from './call-options.js';
import type { CompatDeps } from './deps.js';
import { CompatError, failureProblem, type Problem } from './problems.js';

export type CompatRequest = Omit<GenerationRequestInput, 'tenantId'>;

/** What a route adds to a translated request: the model chain, the deadline, streaming. */
export interface RouteFields {
  models: string[];
  deadlineMs: number;
  stream: boolean;
}

/** Tells when the caller went away before its answer was complete. */
export interface ClientWatch {
  /** aborts when the caller is gone */
  signal: AbortSignal;
  /** runs `fn` once the caller is gone (at once if it already is) */
  onGone(fn: () => void): void;
}

/**
 * Watches the response, not the request: a request's 'close' fires as soon
 * as its body has been read, long before the answer. The response's 'close'
 * fires once, either after the answer went out whole (writableFinished) or
 * when the connection dropped before that.
 */
export function watchClient(reply: FastifyReply): ClientWatch {
  const ac = new AbortController();
  const pending: Array<() => void> = [];
  const gone = (): void => {
    if (ac.signal.aborted) return;
    ac.abort();
    for (const fn of pending.splice(0)) fn();
  };
  const res = reply.raw;
  res.once('close', () => {
    if (!res.writableFinished) gone();
  });
  if (res.destroyed || res.socket?.destroyed === true) gone();
  return {
    signal: ac.signal,
    onGone(fn) {
      if (ac.signal.aborted) fn();
      else pending.push(fn);
    },
  };
}

/** What a caller that disconnected before its answer was complete gets (nobody reads it): normal, logged at debug. */
export function callerGone(): Problem {
  return { kind: 'unavailable', message: 'the caller went away', code: CALLER_GONE };
}

/** The problem code of a caller that went away. */
export const CALLER_GONE = 'caller_gone';

/** Enqueues the request; a caller that leaves before the job started takes the job with it. */
export async function submitJob(deps: Pick<CompatDeps, 'service' | 'logger'>, tenant: Tenant, request: CompatRequest, opts: CallOptions, client: ClientWatch): Promise<string> {
  const { jobId } = await deps.service.submit(tenant, request, opts.idempotencyKey !== undefined ? { idempotencyKey: opts.idempotencyKey } : undefined);
  client.onGone(() => {
    deps.service.cancelIfWaiting(jobId).catch((err: unknown) => deps.logger.warn({ jobId, err: errorMessage(err) }, 'could not remove the job of a caller that went away'));
  });
  return jobId;
}

export type Answer = { kind: 'result'; result: GenerationResult } | { kind: 'blocked'; block: Block };

/** Waits for the job's answer; a safety block is an answer too, every other failure throws. */
export async function waitAnswer(deps: Pick<CompatDeps, 'service'>, jobId: string, opts: CallOptions, client: ClientWatch): Promise<Answer> {
  try {
    return { kind: 'result', result: await deps.service.wait(jobId, { timeoutMs: opts.waitMs, signal: client.signal }) };
  } catch (err) {
    if (err instanceof GenerationFailedError && err.reason === 'blocked') return { kind: 'blocked', block: blockOf(err.message) };
    // nobody is left to answer: not a failure worth logging
    if (client.signal.aborted) throw new CompatError(callerGone());
    throw err;
  }
}

/** Long enough to read a finished job's outcome, too short to wait for a running one. */
const PEEK_MS = 1;

/**
 * A finished job's outcome, or null while it runs. A caller repeating a
 * streamed request (same Idempotency-Key) gets a finished job's answer
 * whole, rather than a replay of attempts that were reset.
 */
async function peek(deps: Pick<CompatDeps, 'service'>, jobId: string): Promise<AnswerEvent | null> {
  try {
    return { type: 'done', result: await deps.service.wait(jobId, { timeoutMs: PEEK_MS }) };
  } catch (err) {
    if (err instanceof GenerationTimeoutError) return null;
    if (err instanceof GenerationFailedError) return err.reason === 'blocked' ? { type: 'blocked', block: blockOf(err.message) } : { type: 'failed', problem: failureProblem(err.reason, err.message) };
    throw err;
  }
}

async function* just(ev: AnswerEvent): AsyncGenerator<AnswerEvent> {
  yield await Promise.resolve(ev);
}

/** The answer events of a submitted job, bounded by the call's wait. */
export async function jobAnswerEvents(deps: Pick<CompatDeps, 'service'>, jobId: string, opts: CallOptions, client: ClientWatch): Promise<AsyncGenerator<AnswerEvent>> {
  const finished = opts.idempotencyKey !== undefined ? await peek(deps, jobId) : null;
  if (finished) return just(finished);
  const timeout = AbortSignal.timeout(opts.waitMs);
  const signal = AbortSignal.any([client.signal, timeout]);
  const deadline = (): Problem | null =>
    client.signal.aborted ? callerGone() : timeout.aborted ? { kind: 'deadline', message: `no answer within ${opts.waitMs} ms; send the request again with the same Idempotency-Key to pick up the job's answer`, code: 'timeout', retryable: false } : null;
  return answerEvents(deps.service.events(jobId, { signal }), signal, deadline);
}
