import type { Content, GenerationRequest } from './request.js';

/**
 * A conservative estimate of Gemini's promptTokenCount, reserved against TPM
 * before the call and settled to the real count after it (R6). Erring high
 * wastes a little headroom for a minute; erring low risks a 429, so the
 * estimate leans high: ~3.5 UTF-8 bytes per token (real text averages ~4
 * characters), plus a few tokens of per-content framing.
 */
export const BYTES_PER_TOKEN = 3.5;
export const TOKENS_PER_CONTENT = 4;

/** UTF-8 length without allocating an encoded copy (prompts can be a megabyte). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      // A surrogate pair is one 4-byte code point; a lone surrogate encodes as 3 (U+FFFD).
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

const textTokens = (text: string): number => Math.ceil(utf8Length(text) / BYTES_PER_TOKEN);
const contentTokens = (c: Content): number => TOKENS_PER_CONTENT + c.parts.reduce((n, p) => n + textTokens(p.text), 0);

export function estimateInputTokens(req: Pick<GenerationRequest, 'contents' | 'systemInstruction'>): number {
  const body = typeof req.contents === 'string' ? TOKENS_PER_CONTENT + textTokens(req.contents) : req.contents.reduce((n, c) => n + contentTokens(c), 0);
  const sys =
    req.systemInstruction === undefined
      ? 0
      : typeof req.systemInstruction === 'string'
        ? TOKENS_PER_CONTENT + textTokens(req.systemInstruction)
        : contentTokens(req.systemInstruction);
  return Math.max(1, body + sys);
}
