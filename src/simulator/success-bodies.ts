/**
 * Successful Gemini v1beta bodies, in the field names the REST API uses (the
 * SDK maps them onto its own types).
 */
import type { Answer } from './answers.js';
import { countTextTokens, type PromptTally } from './prompt-tokens.js';

export interface Usage {
  prompt: PromptTally;
  /** Candidate tokens so far, all candidates together. */
  candidates: number;
  thoughts: number | undefined;
}

function usage(u: Usage): Record<string, unknown> {
  const prompt = u.prompt.total;
  const out: Record<string, unknown> = {
    promptTokenCount: prompt,
    candidatesTokenCount: u.candidates,
    totalTokenCount: prompt + u.candidates + (u.thoughts ?? 0),
    promptTokensDetails: u.prompt.details(),
  };
  if (u.thoughts !== undefined) out['thoughtsTokenCount'] = u.thoughts;
  if (u.prompt.cached > 0) out['cachedContentTokenCount'] = u.prompt.cached;
  return out;
}

function candidates(parts: readonly Record<string, unknown>[], finishReason: string | undefined, count: number): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, index) => {
    const c: Record<string, unknown> = { content: { parts, role: 'model' }, index };
    if (finishReason !== undefined) c['finishReason'] = finishReason;
    return c;
  });
}

function thoughtPart(answer: Answer): Record<string, unknown>[] {
  const summary = answer.thoughts?.summary;
  return summary === undefined ? [] : [{ text: summary, thought: true }];
}

function answerParts(answer: Answer): Record<string, unknown>[] {
  return answer.content.kind === 'text' ? [{ text: answer.content.text }] : [answer.content.part];
}

export interface BodyContext {
  model: string;
  prompt: PromptTally;
  candidateCount: number;
  responseId: string;
}

export function generateBody(ctx: BodyContext, answer: Answer): unknown {
  return {
    candidates: candidates([...thoughtPart(answer), ...answerParts(answer)], answer.finishReason, ctx.candidateCount),
    usageMetadata: usage({ prompt: ctx.prompt, candidates: answer.tokens * ctx.candidateCount, thoughts: answer.thoughts?.tokens }),
    modelVersion: ctx.model,
    responseId: ctx.responseId,
  };
}

/** Text in pieces of `chunkChars`; at least one piece, even for an empty text. */
function pieces(text: string, chunkChars: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += chunkChars) out.push(text.slice(i, i + chunkChars));
  return out.length ? out : [''];
}

export interface StreamChunk {
  body: unknown;
  /** Cumulative candidate tokens once this chunk is out. */
  candidatesTokens: number;
}

/**
 * The answer as stream chunks: text in pieces of `chunkChars`, a function
 * call in one chunk, the thought summary (if any) ahead of the first piece.
 * usageMetadata is cumulative, as Google sends it, so the last chunk holds
 * the totals and the finishReason.
 */
export function streamChunks(ctx: BodyContext, answer: Answer, chunkChars: number): StreamChunk[] {
  const thoughts = answer.thoughts?.tokens;
  const chunk = (parts: Record<string, unknown>[], tokens: number, last: boolean): StreamChunk => {
    const candidatesTokens = tokens * ctx.candidateCount;
    const body = {
      candidates: candidates(parts, last ? answer.finishReason : undefined, ctx.candidateCount),
      usageMetadata: usage({ prompt: ctx.prompt, candidates: candidatesTokens, thoughts }),
      modelVersion: ctx.model,
      responseId: ctx.responseId,
    };
    return { body, candidatesTokens };
  };
  if (answer.content.kind === 'functionCall') return [chunk([...thoughtPart(answer), answer.content.part], answer.tokens, true)];
  const texts = pieces(answer.content.text, chunkChars);
  let soFar = '';
  return texts.map((text, i) => {
    soFar += text;
    const last = i === texts.length - 1;
    const parts = i === 0 ? [...thoughtPart(answer), { text }] : [{ text }];
    return chunk(parts, last ? answer.tokens : countTextTokens(soFar), last);
  });
}

/** A prompt blocked by the safety filter: 200, promptFeedback, no candidates. */
export function safetyBlockedBody(model: string, promptTokens: number, responseId: string): unknown {
  return {
    promptFeedback: {
      blockReason: 'SAFETY',
      safetyRatings: [
        { category: 'HARM_CATEGORY_SEXUALLY_EXPLICIT', probability: 'NEGLIGIBLE' },
        { category: 'HARM_CATEGORY_HATE_SPEECH', probability: 'NEGLIGIBLE' },
        { category: 'HARM_CATEGORY_HARASSMENT', probability: 'NEGLIGIBLE' },
        { category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'HIGH' },
      ],
    },
    usageMetadata: { promptTokenCount: promptTokens, totalTokenCount: promptTokens },
    modelVersion: model,
    responseId,
  };
}

export function countTokensBody(prompt: PromptTally): unknown {
  const body: Record<string, unknown> = { totalTokens: prompt.total, promptTokensDetails: prompt.details() };
  if (prompt.cached > 0) body['cachedContentTokenCount'] = prompt.cached;
  return body;
}

export function modelBody(model: string): Record<string, unknown> {
  return {
    name: `models/${model}`,
    version: '001',
    displayName: model,
    description: `Simulated ${model} (quotaflow stand-in)`,
    inputTokenLimit: 1_048_576,
    outputTokenLimit: 65_536,
    supportedGenerationMethods: ['generateContent', 'countTokens'],
    temperature: 1,
    topP: 0.95,
    topK: 64,
    maxTemperature: 2,
  };
}

export function modelListBody(models: readonly string[]): unknown {
  return { models: models.map(modelBody) };
}
