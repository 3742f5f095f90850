import { describe, expect, it } from 'vitest';
import { answerEvents, blockOf, type AnswerEvent } from '../../src/api/compat/answer-events.js';
import type { GenerationResult, StreamEvent } from '../../src/core/job.js';
import type { Problem } from '../../src/api/compat/problems.js';
import { DependencyError } from '../../src/errors.js';

const result: GenerationResult = {
  jobId: 'j',
  text: 'ab',
  parts: [{ text: 'ab' }],
  model: 'gemini-2.5-flash',
  keyId: 'k',
  project: 'p',
  central: false,
  usage: { promptTokens: 1, candidatesTokens: 1, thoughtsTokens: 0, cachedTokens: 0, totalTokens: 2 },
  finishReason: 'STOP',
  safetyRatings: [],
  modelVersion: null,
  responseId: null,
  attempts: [],
};
const chunk = (id: string, text: string): StreamEvent => ({ type: 'chunk', id, text, parts: [{ text }] });

/** Events from a list; records how far the reader got. */
function source(events: StreamEvent[], then?: () => Promise<never>): { iterable: AsyncIterable<StreamEvent>; read: () => number } {
  let read = 0;
  return {
    read: () => read,
    iterable: {
      async *[Symbol.asyncIterator]() {
        for (const ev of events) {
          read++;
          yield await Promise.resolve(ev);
        }
        if (then) await then();
      },
    },
  };
}

async function all(events: AsyncIterable<StreamEvent>, signal = new AbortController().signal, deadline: () => Problem | null = () => null): Promise<AnswerEvent[]> {
  const out: AnswerEvent[] = [];
  for await (const ev of answerEvents(events, signal, deadline)) out.push(ev);
  return out;
}

describe('answerEvents', () => {
  it('passes chunks on and ends with done', async () => {
    const got = await all(source([chunk('1', 'a'), { type: 'chunk', id: '2', text: '', parts: [] }, chunk('3', 'b'), { type: 'done', id: '4', result }]).iterable);
    expect(got).toEqual([
      { type: 'chunk', parts: [{ text: 'a' }] },
      { type: 'chunk', parts: [{ text: 'b' }] },
      { type: 'done', result },
    ]);
  });

  it('hides a reset that came before anything was sent', async () => {
    const got = await all(source([{ type: 'reset', id: '1', reason: 'overloaded' }, chunk('2', 'b'), { type: 'done', id: '3', result }]).iterable);
    expect(got.map((e) => e.type)).toEqual(['chunk', 'done']);
  });

  it('ends as interrupted at a reset after a chunk, and reads no further', async () => {
    const src = source([chunk('1', 'a'), { type: 'reset', id: '2', reason: 'overloaded (503)' }, chunk('3', 'b'), { type: 'done', id: '4', result }]);
    const got = await all(src.iterable);
    expect(got.at(-1)).toMatchObject({ type: 'failed', problem: { kind: 'interrupted', message: expect.stringContaining('overloaded (503)') as string } });
    expect(got).toHaveLength(2);
    expect(src.read()).toBe(2);
  });

  it('turns a blocked job into a block and any other failure into its problem', async () => {
    expect(await all(source([{ type: 'error', id: '1', reason: 'blocked', message: 'response blocked: RECITATION' }]).iterable)).toEqual([{ type: 'blocked', block: { scope: 'response', reason: 'RECITATION' } }]);
    expect(await all(source([{ type: 'error', id: '1', reason: 'deadline', message: 'too late' }]).iterable)).toEqual([{ type: 'failed', problem: { kind: 'deadline', message: 'too late', retryable: false } }]);
  });

  it('stops at the deadline even when the source is silent', async () => {
    const ac = new AbortController();
    const silent = source([chunk('1', 'a')], () => new Promise<never>(() => undefined));
    const reading = all(silent.iterable, ac.signal, () => ({ kind: 'deadline', message: 'no answer in time' }));
    setTimeout(() => ac.abort(), 10);
    expect((await reading).at(-1)).toEqual({ type: 'failed', problem: { kind: 'deadline', message: 'no answer in time' } });
  });

  it('answers a source that throws, or ends early, with a failure', async () => {
    const throwing = source([chunk('1', 'a')], () => Promise.reject(new DependencyError('redis down')));
    expect((await all(throwing.iterable)).at(-1)).toMatchObject({ type: 'failed', problem: { kind: 'unavailable' } });
    expect((await all(source([chunk('1', 'a')]).iterable)).at(-1)).toMatchObject({ type: 'failed', problem: { kind: 'internal' } });
  });
});

describe('blockOf', () => {
  it.each([
    ['generation j failed (blocked): prompt blocked: SAFETY', { scope: 'prompt', reason: 'SAFETY' }],
    ['response blocked: PROHIBITED_CONTENT', { scope: 'response', reason: 'PROHIBITED_CONTENT' }],
    ['something else', { scope: 'prompt', reason: 'OTHER' }],
  ])('%s', (message, block) => expect(blockOf(message)).toEqual(block));
});
