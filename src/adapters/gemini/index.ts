/** The Gemini adapter: the only place that talks to @google/genai. */
export { createGeminiPool, type GeminiCall, type GeminiCallResult, type GeminiPoolOptions, type GeminiPort } from './pool.js';
export type { StreamChunk } from '../../core/outcome.js';
