import { describe, expect, it } from 'vitest';
import type { Outcome, StreamChunk } from '../../src/core/outcome.js';
import { createStreamMerge } from '../../src/core/stream-merge.js';

const usage = (prompt: number, out: number): Record<string, number> => ({ promptTokenCount: prompt, candidatesTokenCount: out, totalTokenCount: prompt + out });
const chunk = (parts: unknown[], extra: Record<string, unknown> = {}, candidate: Record<string, unknown> = {}): unknown => ({
  candidates: [{ content: { role: 'model', parts }, index: 0, ...candidate }],
  ...extra,
});

function run(chunks: unknown[]): { delivered: StreamChunk[]; outcome: Outcome } {
  const merge = createStreamMerge();
  const delivered = chunks.flatMap((c) => {
    const out = merge.add(c);
    return out ? [out] : [];
  });
  return { delivered, outcome: merge.outcome() };
}

describe('createStreamMerge', () => {
  it('hands out text deltas in order and joins them; usage is the last cumulative count', () => {
    const { delivered, outcome } = run([
      chunk([{ text: 'Hel' }], { usageMetadata: usage(5, 1), modelVersion: 'm-1', responseId: 'r-1' }),
      chunk([{ text: 'lo, ' }], { usageMetadata: usage(5, 2) }),
      chunk([{ text: 'world' }], { usageMetadata: usage(5, 4) }, { finishReason: 'STOP' }),
    ]);
    expect(delivered.map((d) => d.text)).toEqual(['Hel', 'lo, ', 'world']);
    expect(delivered.map((d) => d.usage?.candidatesTokens)).toEqual([1, 2, 4]);
    expect(outcome).toMatchObject({
      kind: 'success',
      text: 'Hello, world',
      parts: [{ text: 'Hello, world' }],
      usage: { promptTokens: 5, candidatesTokens: 4, totalTokens: 9 },
      finishReason: 'STOP',
      modelVersion: 'm-1',
      responseId: 'r-1',
    });
  });

  it('keeps thoughts apart from the answer, function calls whole, and signatures on the part that carried them', () => {
    const call = { functionCall: { name: 'lookup', args: { q: 'x' } }, thoughtSignature: 'c2ln' };
    const { delivered, outcome } = run([
      chunk([{ text: 'Thinking ', thought: true }]),
      chunk([{ text: 'more', thought: true }]),
      chunk([{ text: 'Let me ' }]),
      chunk([{ text: 'check.' }, call]),
      chunk([{ text: '', thoughtSignature: 'ZmluYWw=' }], { usageMetadata: usage(3, 9) }, { finishReason: 'STOP' }),
    ]);
    expect(delivered.map((d) => d.text)).toEqual(['', '', 'Let me ', 'check.', '']);
    expect(delivered[3]?.parts).toEqual([{ text: 'check.' }, call]);
    expect(outcome).toMatchObject({
      kind: 'success',
      text: 'Let me check.',
      parts: [{ text: 'Thinking more', thought: true }, { text: 'Let me check.' }, call, { text: '', thoughtSignature: 'ZmluYWw=' }],
    });
  });

  it('a chunk without parts is not handed out, but its usage and finish reason count', () => {
    const { delivered, outcome } = run([chunk([{ text: 'a' }]), { candidates: [{ finishReason: 'MAX_TOKENS' }], usageMetadata: usage(2, 1) }]);
    expect(delivered).toHaveLength(1);
    expect(outcome).toMatchObject({ kind: 'success', text: 'a', finishReason: 'MAX_TOKENS', usage: { totalTokens: 3 } });
  });

  it('an answer withheld at the end is blocked, though text went out first', () => {
    const { delivered, outcome } = run([chunk([{ text: 'Sure, here' }]), chunk([], {}, { finishReason: 'SAFETY' })]);
    expect(delivered).toHaveLength(1);
    expect(outcome).toMatchObject({ kind: 'failure', failure: 'blocked', message: 'response blocked: SAFETY' });
  });

  it('a blocked prompt hands out nothing', () => {
    const { delivered, outcome } = run([{ promptFeedback: { blockReason: 'PROHIBITED_CONTENT' }, usageMetadata: usage(4, 0) }]);
    expect(delivered).toEqual([]);
    expect(outcome).toMatchObject({ kind: 'failure', failure: 'blocked' });
  });

  it('citations arriving piecewise are collected; grounding is the latest', () => {
    const { outcome } = run([
      chunk([{ text: 'a' }], {}, { citationMetadata: { citations: [{ startIndex: 0, endIndex: 1 }] } }),
      chunk([{ text: 'b' }], {}, { citationMetadata: { citations: [{ startIndex: 1, endIndex: 2 }] }, groundingMetadata: { webSearchQueries: ['q'] } }),
    ]);
    expect(outcome).toMatchObject({
      citationMetadata: { citations: [{ startIndex: 0, endIndex: 1 }, { startIndex: 1, endIndex: 2 }] },
      groundingMetadata: { webSearchQueries: ['q'] },
    });
  });

  it('ignores chunks that are not objects', () => {
    const { delivered, outcome } = run([null, 'x', chunk([{ text: 'ok' }])]);
    expect(delivered).toHaveLength(1);
    expect(outcome).toMatchObject({ kind: 'success', text: 'ok' });
  });
});
