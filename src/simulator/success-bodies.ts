/**
 * Successful Gemini v1beta bodies, in the field names the REST API uses (the
 * SDK maps them onto its own types).
 */
import { countTextTokens, type Answer } from './tokens.js';

function usage(promptTokens: number, candidatesTokens: number): Record<string, unknown> {
  return {
    promptTokenCount: promptTokens,
    candidatesTokenCount: candidatesTokens,
    totalTokenCount: promptTokens + candidatesTokens,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: promptTokens }],
  };
}

function candidate(text: string, finishReason: string | undefined): Record<string, unknown> {
  const c: Record<string, unknown> = { content: { parts: [{ text }], role: 'model' }, index: 0 };
  if (finishReason !== undefined) c['finishReason'] = finishReason;
  return c;
}

export function generateBody(model: string, answer: Answer, promptTokens: number, responseId: string): unknown {
  return {
    candidates: [candidate(answer.text, answer.finishReason)],
    usageMetadata: usage(promptTokens, answer.tokens),
    modelVersion: model,
    responseId,
  };
}

/**
 * The answer in up to three SSE chunks. usageMetadata is cumulative, as Google
 * sends it, so the last chunk holds the totals and the finishReason.
 */
export function streamChunks(model: string, answer: Answer, promptTokens: number, responseId: string): unknown[] {
  const pieces = Math.min(3, answer.text.length);
  const size = Math.ceil(answer.text.length / pieces);
  const chunks: unknown[] = [];
  for (let i = 0; i < pieces; i++) {
    const last = i === pieces - 1;
    const text = answer.text.slice(i * size, last ? undefined : (i + 1) * size);
    const soFar = last ? answer.tokens : countTextTokens(answer.text.slice(0, (i + 1) * size));
    chunks.push({
      candidates: [candidate(text, last ? answer.finishReason : undefined)],
      usageMetadata: usage(promptTokens, soFar),
      modelVersion: model,
      responseId,
    });
  }
  return chunks;
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

export function countTokensBody(promptTokens: number): unknown {
  return { totalTokens: promptTokens, promptTokensDetails: [{ modality: 'TEXT', tokenCount: promptTokens }] };
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
