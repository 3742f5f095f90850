import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import type { AnswerEvent } from './answer-events.js';
import { CompatError } from './problems.js';

/** Writes one dialect's stream: text to send before, for and after each event. */
export interface StreamEncoder {
  contentType: string;
  start(): string[];
  event(ev: AnswerEvent): string[];
  end(): string[];
}

/** One server-sent event carrying JSON. */
export function sseData(json: unknown, eol = '\n'): string {
  return `data: ${JSON.stringify(json)}${eol}${eol}`;
}

async function* encode(first: AnswerEvent, rest: AsyncIterator<AnswerEvent>, enc: StreamEncoder): AsyncGenerator<string> {
  try {
    yield* enc.start();
    let ev: AnswerEvent | undefined = first;
    while (ev !== undefined) {
      yield* enc.event(ev);
      if (ev.type !== 'chunk') break;
      const next: IteratorResult<AnswerEvent> = await rest.next();
      ev = next.done === true ? undefined : next.value;
    }
    yield* enc.end();
  } finally {
    // the caller may have gone: stop reading the job's events
    await rest.return?.(undefined);
  }
}

/**
 * Streams an answer. Status and headers wait for the first event, so a job
 * that fails before its first chunk answers with a plain HTTP error in the
 * dialect's shape (what SDKs and their retry logic expect); from the first
 * chunk on, events go out as they come, nothing held back.
 */
export async function streamAnswer(reply: FastifyReply, events: AsyncGenerator<AnswerEvent>, enc: StreamEncoder): Promise<FastifyReply> {
  const first = await events.next();
  if (first.done === true) throw new CompatError({ kind: 'internal', message: "the job's event stream ended before its answer" });
  if (first.value.type === 'failed') {
    await events.return(undefined);
    throw new CompatError(first.value.problem);
  }
  void reply.header('content-type', enc.contentType).header('cache-control', 'no-cache').header('x-accel-buffering', 'no');
  return reply.send(Readable.from(encode(first.value, events, enc), { objectMode: false }));
}
