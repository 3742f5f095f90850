import { answerText, classifyResponse, firstCandidate, isObject, partsOf, str, usageOf, type Json } from './classify.js';
import type { Outcome, StreamChunk } from './outcome.js';
import type { Part } from './request-content.js';

/**
 * Folds the chunks of a streamed answer into the one answer they make, the
 * way a non-streamed call would have returned it: text parts joined, every
 * other part kept whole and in order, usage from the last chunk that had it
 * (Gemini's streamed counts are cumulative). Pure; the adapter feeds it.
 */
export interface StreamMerge {
  /** Takes one chunk; returns what to hand the consumer, or null when the chunk carries no part. */
  add(chunk: unknown): StreamChunk | null;
  /** The outcome of everything added so far, classified like a whole response. */
  outcome(): Outcome;
}

/** Only bare text parts are joined: a part carrying a thought signature keeps it where it came. */
function plainText(p: Part): p is Part & { text: string } {
  return p.text !== undefined && Object.keys(p).every((k) => k === 'text' || k === 'thought');
}

function appendPart(parts: Part[], p: Part): void {
  const last = parts.at(-1);
  if (last && plainText(last) && plainText(p) && last.thought === p.thought) parts[parts.length - 1] = { ...last, text: last.text + p.text };
  else parts.push(p);
}

/** Citation lists arrive piecewise; every other field is the latest seen. */
function mergeCitations(into: Json | undefined, next: Json): Json {
  const out: Json = { ...into };
  for (const [key, value] of Object.entries(next)) {
    const before = out[key];
    out[key] = Array.isArray(value) && Array.isArray(before) ? [...before, ...value] : value;
  }
  return out;
}

export function createStreamMerge(): StreamMerge {
  const parts: Part[] = [];
  const candidate: Json = {};
  let citations: Json | undefined;
  let head: Json = {};

  return {
    add(chunk) {
      if (!isObject(chunk)) return null;
      const c = firstCandidate(chunk);
      if (isObject(chunk.promptFeedback) && !isObject(head.promptFeedback)) head = { ...head, promptFeedback: chunk.promptFeedback };
      for (const key of ['modelVersion', 'responseId'] as const) if (head[key] === undefined && str(chunk[key]) !== null) head = { ...head, [key]: chunk[key] };
      if (chunk.usageMetadata !== undefined) head = { ...head, usageMetadata: chunk.usageMetadata };
      for (const key of ['finishReason', 'safetyRatings', 'groundingMetadata'] as const) if (c[key] !== undefined) candidate[key] = c[key];
      if (isObject(c.citationMetadata)) citations = mergeCitations(citations, c.citationMetadata);
      const fresh = partsOf(c);
      for (const p of fresh) appendPart(parts, p);
      if (fresh.length === 0) return null;
      return { text: answerText(fresh), parts: fresh, ...(chunk.usageMetadata !== undefined ? { usage: usageOf(chunk.usageMetadata) } : {}) };
    },
    outcome() {
      const whole = { ...candidate, content: { role: 'model', parts }, ...(citations ? { citationMetadata: citations } : {}) };
      return classifyResponse({ ...head, candidates: [whole] });
    },
  };
}
