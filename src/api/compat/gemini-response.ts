import type { GenerationResult } from '../../core/job.js';
import type { Part } from '../../core/request.js';
import type { Usage } from '../../core/types.js';
import type { Block } from './answer-events.js';

/**
 * A job's result as Gemini's GenerateContentResponse (REST field names):
 * the one candidate, its finish reason, safety ratings, grounding and
 * citations, usage, and the model that served (modelVersion).
 */
type Json = Record<string, unknown>;

/** Gemini leaves out counts that are zero; so do we. */
export function usageMetadata(u: Usage): Json {
  return {
    promptTokenCount: u.promptTokens,
    candidatesTokenCount: u.candidatesTokens,
    totalTokenCount: u.totalTokens || u.promptTokens + u.candidatesTokens + u.thoughtsTokens,
    ...(u.thoughtsTokens > 0 ? { thoughtsTokenCount: u.thoughtsTokens } : {}),
    ...(u.cachedTokens > 0 ? { cachedContentTokenCount: u.cachedTokens } : {}),
  };
}

function candidate(result: GenerationResult, parts: Part[]): Json {
  return {
    content: { role: 'model', parts },
    ...(result.finishReason !== null ? { finishReason: result.finishReason } : {}),
    index: 0,
    ...(result.safetyRatings.length > 0 ? { safetyRatings: result.safetyRatings } : {}),
    ...(result.groundingMetadata ? { groundingMetadata: result.groundingMetadata } : {}),
    ...(result.citationMetadata ? { citationMetadata: result.citationMetadata } : {}),
  };
}

function withParts(result: GenerationResult, parts: Part[]): Json {
  return {
    candidates: [candidate(result, parts)],
    usageMetadata: usageMetadata(result.usage),
    // the routable id of the model that served, which the caller can name again
    modelVersion: result.model,
    responseId: result.responseId ?? result.jobId,
  };
}

/** The whole answer, as generateContent returns it. */
export function generateContentResponse(result: GenerationResult): Json {
  return withParts(result, result.parts);
}

/** One streamed piece: the parts it adds, nothing else yet. */
export function chunkResponse(parts: Part[]): Json {
  return { candidates: [{ content: { role: 'model', parts }, index: 0 }] };
}

/**
 * The stream's last piece, after every part went out: finish reason, usage
 * and model. It carries one empty text part, as Gemini's own last chunks
 * often do, because @google/genai's chats keep a streamed turn in their
 * history only if every chunk has content.
 */
export function finalChunkResponse(result: GenerationResult): Json {
  return withParts(result, [{ text: '' }]);
}

/** A safety block as Gemini answers it: 200, promptFeedback for the prompt, finishReason for the answer. */
export function blockedResponse(block: Block, responseId: string): Json {
  if (block.scope === 'prompt') return { promptFeedback: { blockReason: block.reason }, responseId };
  return { candidates: [{ finishReason: block.reason, index: 0 }], responseId };
}

/** A model of the tenant in the REST `Model` shape (limits unknown here, so left out). */
export function geminiModel(id: string): Json {
  return { name: `models/${id}`, baseModelId: id, displayName: id, supportedGenerationMethods: ['generateContent', 'streamGenerateContent', 'countTokens'] };
}
