/**
 * How the engine plans a streamed answer: chunk sizes, cumulative usage,
 * timing (config and per-rule), and mid-stream failures.
 */
import { describe, expect, it } from 'vitest';
import { at, engineWith, generate, streamOf, userText } from '../helpers/simulator-engine.js';

const stream = { method: 'streamGenerateContent' as const };
const textOf = (chunk: unknown): string => String(at(chunk, 'candidates', 0, 'content', 'parts', 0, 'text'));

describe('stream chunking', () => {
  it('cuts the answer into chunkChars pieces whose usage is cumulative; the last holds totals and finishReason', () => {
    const { engine } = engineWith({ stream: { chunkChars: 5 } });
    const reply = streamOf(engine.handle(generate(userText('abcdefghij'), stream)));
    const full = '[flash] echo: abcdefghij';
    expect(reply.chunks.map(textOf)).toEqual(['[flas', 'h] ec', 'ho: a', 'bcdef', 'ghij']);
    const counts = reply.chunks.map((c) => at(c, 'usageMetadata', 'candidatesTokenCount'));
    expect(counts).toEqual([2, 3, 4, 5, Math.ceil(full.length / 4)]);
    expect(reply.chunks.map((c) => at(c, 'usageMetadata', 'promptTokenCount'))).toEqual([3, 3, 3, 3, 3]);
    expect(reply.chunks.map((c) => at(c, 'candidates', 0, 'finishReason'))).toEqual([undefined, undefined, undefined, undefined, 'STOP']);
    expect(engine.stats().calls[0]).toMatchObject({ status: 200, counted: true, candidatesTokens: 6 });
  });

  it('defaults to 12 characters per chunk, no delays', () => {
    const { engine } = engineWith();
    const reply = streamOf(engine.handle(generate(userText('0123456789'), stream)));
    expect(reply.chunks.map(textOf)).toEqual(['[flash] echo', ': 0123456789']);
    expect([reply.firstChunkDelayMs, reply.chunkIntervalMs]).toEqual([0, 0]);
  });

  it('a function call comes as one chunk', () => {
    const { engine } = engineWith({ stream: { chunkChars: 1 } });
    const tools = [{ functionDeclarations: [{ name: 'lookup', parameters: { type: 'OBJECT', properties: { q: { type: 'STRING' } } } }] }];
    const reply = streamOf(engine.handle(generate({ ...userText('find it'), tools }, stream)));
    expect(reply.chunks).toHaveLength(1);
    expect(at(reply.chunks[0], 'candidates', 0)).toMatchObject({ content: { parts: [{ functionCall: { name: 'lookup', args: { q: 'find it' } } }] }, finishReason: 'STOP' });
  });

  it('timing comes from the config, overridden per fault rule', () => {
    const { engine } = engineWith({
      stream: { firstChunkDelayMs: 40, chunkIntervalMs: 10 },
      faults: { rules: [{ model: 'pro', stream: { chunkIntervalMs: 25, chunkChars: 100 } }] },
    });
    const flash = streamOf(engine.handle(generate(userText('x'), stream)));
    expect([flash.firstChunkDelayMs, flash.chunkIntervalMs, flash.chunks.length]).toEqual([40, 10, 2]);
    const pro = streamOf(engine.handle(generate(userText('x'), { ...stream, model: 'pro' })));
    expect([pro.firstChunkDelayMs, pro.chunkIntervalMs, pro.chunks.length]).toEqual([40, 25, 1]);
  });
});

describe('mid-stream failures', () => {
  it('sends afterChunks chunks, then an error event; the call counts as admitted', () => {
    const { engine } = engineWith({ stream: { chunkChars: 4 }, faults: { rules: [{ midStream: { afterChunks: 2 } }] } });
    const reply = streamOf(engine.handle(generate(userText('a long enough prompt'), stream)));
    expect(reply.chunks.map(textOf)).toEqual(['[fla', 'sh] ']);
    expect(reply.failure).toEqual({ how: 'error-event', body: { error: { code: 503, status: 'UNAVAILABLE', message: 'The model is overloaded. Please try again later.' } } });
    expect(engine.stats().calls[0]).toMatchObject({ status: 503, counted: true, midStream: true, promptTokens: 5, candidatesTokens: 2 });
    expect(engine.stats().totals[0]).toMatchObject({ requests: 1 });
  });

  it('never gets past the last chunk, can answer 500, or drop the connection', () => {
    const { engine } = engineWith({ faults: { rules: [{ model: 'flash', midStream: { afterChunks: 50, status: 500 } }, { model: 'pro', midStream: { afterChunks: 0, how: 'disconnect' } }] } });
    const capped = streamOf(engine.handle(generate(userText('hi'), stream)));
    expect(capped.chunks).toHaveLength(1); // the answer has two chunks; the last (with finishReason) is withheld
    expect(capped.failure).toMatchObject({ how: 'error-event', body: { error: { code: 500, status: 'INTERNAL' } } });
    const dropped = streamOf(engine.handle(generate(userText('hi'), { ...stream, model: 'pro' })));
    expect(dropped.chunks).toEqual([]);
    expect(dropped.failure).toEqual({ how: 'disconnect' });
  });

  it('applies only to streamed calls, and with probability p', () => {
    const { engine } = engineWith({ faults: { rules: [{ midStream: { afterChunks: 1, p: 0.5 } }] } });
    expect(engine.handle(generate(userText('hi'))).kind).toBe('json');
    const failures = Array.from({ length: 200 }, () => streamOf(engine.handle(generate(userText('hello there'), stream))).failure !== undefined);
    const n = failures.filter(Boolean).length;
    expect(n).toBeGreaterThan(50);
    expect(n).toBeLessThan(150);
  });
});
