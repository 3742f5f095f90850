/** The Gemini adapter: the only place that talks to @google/genai. */
export { createGeminiPool, type GeminiCallResult, type GeminiPoolOptions, type GeminiPort } from './pool.js';
