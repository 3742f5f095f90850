import { describe, expect, it } from 'vitest';
import { estimateInputTokens, utf8Length } from '../../src/core/tokens.js';

describe('utf8Length', () => {
  it('matches Buffer.byteLength for ASCII, accents, CJK, emoji and lone surrogates', () => {
    for (const s of ['', 'hello', 'héllo wörld', '日本語のテキスト', 'emoji 😀👍🏽 mix', 'lone \ud800 surrogate', 'end \ud83d']) {
      expect(utf8Length(s), s).toBe(Buffer.byteLength(s, 'utf8'));
    }
  });
});

describe('estimateInputTokens', () => {
  it('a string prompt is one content: ceil(bytes / 3.5) + 4', () => {
    expect(estimateInputTokens({ contents: 'a'.repeat(35) })).toBe(10 + 4);
    expect(estimateInputTokens({ contents: 'a'.repeat(36) })).toBe(11 + 4);
  });

  it('sums parts and contents, and counts the system instruction', () => {
    const contents = [
      { role: 'user' as const, parts: [{ text: 'a'.repeat(7) }, { text: 'b'.repeat(7) }] },
      { role: 'model' as const, parts: [{ text: 'c'.repeat(7) }] },
    ];
    expect(estimateInputTokens({ contents })).toBe(2 + 2 + 4 + 2 + 4);
    expect(estimateInputTokens({ contents, systemInstruction: 'd'.repeat(7) })).toBe(14 + 2 + 4);
    expect(estimateInputTokens({ contents, systemInstruction: { parts: [{ text: 'd'.repeat(7) }] } })).toBe(14 + 2 + 4);
  });

  it('never falls below ceil(chars / 4) per part, whatever the script', () => {
    for (const text of ['plain english words here', 'ééééééééé', '中文文本測試中文文本', '😀😀😀😀😀', 'x']) {
      const estimate = estimateInputTokens({ contents: [{ parts: [{ text }] }] });
      expect(estimate, text).toBeGreaterThanOrEqual(Math.ceil(text.length / 4));
    }
    const big = 'word '.repeat(20_000);
    expect(estimateInputTokens({ contents: big })).toBeGreaterThanOrEqual(Math.ceil(big.length / 4));
  });

  it('non-ASCII text costs more per character', () => {
    expect(estimateInputTokens({ contents: '日本語'.repeat(10) })).toBeGreaterThan(estimateInputTokens({ contents: 'abc'.repeat(10) }));
  });

  it('is at least 1 even for empty text', () => {
    expect(estimateInputTokens({ contents: [{ parts: [{ text: '' }] }] })).toBeGreaterThanOrEqual(1);
  });
});
