/**
 * The stand-in's deterministic answers:
 * - functions declared, calling not NONE, and the last turn is not a
 *   functionResponse: a functionCall of the first declared function (the
 *   first allowed one under allowedFunctionNames), args sampled from its
 *   parameter schema, an id, and a thoughtSignature on the part;
 * - the last turn carries functionResponse parts:
 *   `[model] <name> returned <response JSON>` for each;
 * - responseMimeType application/json: JSON that validates against
 *   responseSchema / responseJsonSchema (schema.ts), or
 *   `{"model":…,"echo":…}` without a schema;
 * - otherwise `[model] echo: <first 80 chars of the last user text>`.
 * Text is cut before the first stop sequence (STOP) and to
 * maxOutputTokens * 4 chars (MAX_TOKENS). Thinking, when asked for, costs
 * min(thinkingBudget, 16 + 2 * answer tokens) thoughts tokens, and
 * includeThoughts adds a thought summary part.
 */
import { countTextTokens, jsonTokens } from './prompt-tokens.js';
import type { FunctionDeclaration, GenerationRequest } from './request.js';
import { isRecord } from './request-parts.js';
import { sampleFor } from './schema.js';

export type AnswerContent = { kind: 'text'; text: string } | { kind: 'functionCall'; part: Record<string, unknown> };

export interface Answer {
  content: AnswerContent;
  /** Tokens of one candidate. */
  tokens: number;
  finishReason: 'STOP' | 'MAX_TOKENS';
  thoughts: { tokens: number; summary: string | undefined } | undefined;
}

export const BAD_REQUEST_MARKER = '[[simulate:bad-request]]';
export const SAFETY_MARKER = '[[simulate:safety]]';

export function containsMarker(texts: readonly string[], marker: string): boolean {
  for (const t of texts) if (t.includes(marker)) return true;
  return false;
}

/** FNV-1a, for ids that depend only on the request. */
function hash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

function pickFunction(req: GenerationRequest): FunctionDeclaration | undefined {
  if (req.functionMode === 'NONE' || req.lastTurnResponses.length > 0) return undefined;
  const allowed = req.allowedFunctionNames;
  return (allowed && req.functions.find((f) => allowed.includes(f.name))) || req.functions[0];
}

function functionAnswer(fn: FunctionDeclaration, req: GenerationRequest, model: string): Omit<Answer, 'thoughts'> {
  const sampled = fn.schema === undefined ? {} : sampleFor(fn.schema, req.lastUserText);
  const args = isRecord(sampled) ? sampled : {};
  const digest = hash(`${model}|${fn.name}|${req.lastUserText}|${JSON.stringify(args)}`);
  const signature = Buffer.from(`sim-thought-signature:${model}:${fn.name}:${digest}`).toString('base64');
  const functionCall = { name: fn.name, args, id: `call_${digest}` };
  return { content: { kind: 'functionCall', part: { functionCall, thoughtSignature: signature } }, tokens: jsonTokens(functionCall), finishReason: 'STOP' };
}

function fullText(model: string, req: GenerationRequest): string {
  if (req.lastTurnResponses.length > 0) {
    return `[${model}] ${req.lastTurnResponses.map((r) => `${r.name} returned ${JSON.stringify(r.response ?? null).slice(0, 200)}`).join('; ')}`;
  }
  if (req.json) {
    const value = req.json.schema === undefined ? { model, echo: req.lastUserText.slice(0, 80) } : sampleFor(req.json.schema, req.lastUserText);
    return JSON.stringify(value);
  }
  return `[${model}] echo: ${req.lastUserText.slice(0, 80)}`;
}

function textAnswer(model: string, req: GenerationRequest): Omit<Answer, 'thoughts'> {
  let text = fullText(model, req);
  for (const stop of req.stopSequences) {
    const at = text.indexOf(stop);
    if (at !== -1) text = text.slice(0, at);
  }
  const cap = req.maxOutputTokens === undefined ? Infinity : req.maxOutputTokens * 4;
  const cut = text.length > cap;
  if (cut) text = text.slice(0, cap);
  return { content: { kind: 'text', text }, tokens: Math.max(1, countTextTokens(text)), finishReason: cut ? 'MAX_TOKENS' : 'STOP' };
}

export function answerFor(model: string, req: GenerationRequest): Answer {
  const fn = pickFunction(req);
  const base = fn ? functionAnswer(fn, req, model) : textAnswer(model, req);
  if (!req.thinking) return { ...base, thoughts: undefined };
  const tokens = Math.min(req.thinking.budget ?? Infinity, 16 + 2 * base.tokens);
  const summary = req.thinking.includeThoughts ? `Thinking about: ${req.lastUserText.slice(0, 40)}` : undefined;
  return { ...base, thoughts: { tokens, summary } };
}
