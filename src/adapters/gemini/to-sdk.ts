import type { GenerateContentParameters } from '@google/genai';
import { toContents, type GenerationRequest } from '../../core/request.js';

/** Our validated request => the SDK's parameters. generationConfig and systemInstruction go into `config`. */
export function toSdkParams(model: string, request: GenerationRequest, signal: AbortSignal | undefined): GenerateContentParameters {
  return {
    model,
    contents: toContents(request.contents),
    config: {
      ...request.generationConfig,
      ...(request.systemInstruction !== undefined ? { systemInstruction: request.systemInstruction } : {}),
      ...(signal ? { abortSignal: signal } : {}),
    },
  };
}
