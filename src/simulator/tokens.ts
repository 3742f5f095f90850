/**
 * Token counting and the deterministic answer of the stand-in.
 *
 * Token rule (documented, not Google's tokenizer): every text part of
 * `contents` and `systemInstruction` costs ceil(chars / 4) tokens, chars being
 * UTF-16 code units; a request costs at least 1 token. Non-text parts are free.
 * The answer is `[model] echo: <first 80 chars of the last user text>`, cut to
 * generationConfig.maxOutputTokens * 4 chars when that is smaller.
 */

export interface RequestText {
  /** Every text part, system instruction included. */
  texts: string[];
  /** The last text of the last user turn ("" when none). */
  lastUserText: string;
  maxOutputTokens: number | undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function partTexts(content: unknown, into: string[]): string | undefined {
  if (!isRecord(content) || !Array.isArray(content['parts'])) return undefined;
  let last: string | undefined;
  for (const part of content['parts']) {
    if (isRecord(part) && typeof part['text'] === 'string') {
      into.push(part['text']);
      last = part['text'];
    }
  }
  return last;
}

/** Pulls the texts out of a generateContent / countTokens body; tolerant of any shape. */
export function extractRequestText(body: unknown): RequestText {
  const texts: string[] = [];
  let lastUserText = '';
  if (!isRecord(body)) return { texts, lastUserText, maxOutputTokens: undefined };
  partTexts(body['systemInstruction'], texts);
  // countTokens may wrap the request as generateContentRequest.
  const inner = isRecord(body['generateContentRequest']) ? body['generateContentRequest'] : body;
  if (inner !== body) partTexts(inner['systemInstruction'], texts);
  const contents = inner['contents'];
  if (Array.isArray(contents)) {
    for (const content of contents) {
      const last = partTexts(content, texts);
      const role = isRecord(content) ? content['role'] : undefined;
      if (last !== undefined && (role === undefined || role === 'user')) lastUserText = last;
    }
  }
  const gen = inner['generationConfig'];
  const max = isRecord(gen) ? gen['maxOutputTokens'] : undefined;
  return { texts, lastUserText, maxOutputTokens: typeof max === 'number' && max > 0 ? max : undefined };
}

export function countTextTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

export function countPromptTokens(texts: readonly string[]): number {
  let total = 0;
  for (const t of texts) total += countTextTokens(t);
  return Math.max(1, total);
}

export interface Answer {
  text: string;
  tokens: number;
  finishReason: 'STOP' | 'MAX_TOKENS';
}

export function answerFor(model: string, req: RequestText): Answer {
  const full = `[${model}] echo: ${req.lastUserText.slice(0, 80)}`;
  const cap = req.maxOutputTokens === undefined ? Infinity : req.maxOutputTokens * 4;
  const text = full.length > cap ? full.slice(0, cap) : full;
  return { text, tokens: Math.max(1, countTextTokens(text)), finishReason: text.length < full.length ? 'MAX_TOKENS' : 'STOP' };
}

export const BAD_REQUEST_MARKER = '[[simulate:bad-request]]';
export const SAFETY_MARKER = '[[simulate:safety]]';

export function containsMarker(texts: readonly string[], marker: string): boolean {
  for (const t of texts) if (t.includes(marker)) return true;
  return false;
}
