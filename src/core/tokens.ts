import { fileTokens, inlineTokens } from './media-tokens.js';
import type { Content, GenerationRequest, MediaResolution, Part } from './request.js';
import { jsonLength, utf8Length } from './utf8.js';

export { utf8Length } from './utf8.js';

/**
 * A conservative estimate of Gemini's promptTokenCount, reserved against TPM
 * before the call and settled to the real count after it. Erring high
 * wastes a little headroom for a minute; erring low risks a 429, so the
 * estimate leans high: ~3.5 UTF-8 bytes per token for text and JSON (real
 * text averages ~4 characters), a few tokens of framing per content, and
 * media by Gemini's documented rules (see media-tokens.ts).
 */
export const BYTES_PER_TOKEN = 3.5;
export const TOKENS_PER_CONTENT = 4;
/**
 * A context cache's size is not known at enqueue, yet its tokens are part of
 * promptTokenCount: assume a cache of this many tokens until the call settles.
 */
export const CACHED_CONTENT_TOKENS = 32_768;

const bytesTokens = (bytes: number): number => Math.ceil(bytes / BYTES_PER_TOKEN);
const textTokens = (text: string): number => bytesTokens(utf8Length(text));
const jsonTokens = (value: unknown): number => bytesTokens(jsonLength(value));

function partTokens(p: Part, resolution: MediaResolution | undefined): number {
  // Signatures are opaque model state sent back with the turn; counted as text to stay on the high side.
  const signature = p.thoughtSignature === undefined ? 0 : textTokens(p.thoughtSignature);
  if (p.text !== undefined) return signature + textTokens(p.text);
  if (p.inlineData) return signature + inlineTokens(p.inlineData, p.videoMetadata, resolution);
  if (p.fileData) return signature + fileTokens(p.fileData, p.videoMetadata, resolution);
  return signature + jsonTokens(p.functionCall ?? p.functionResponse ?? p.executableCode ?? p.codeExecutionResult);
}

const contentTokens = (c: Content, resolution: MediaResolution | undefined): number => TOKENS_PER_CONTENT + c.parts.reduce((n, p) => n + partTokens(p, resolution), 0);
const turnTokens = (c: string | Content, resolution: MediaResolution | undefined): number => (typeof c === 'string' ? TOKENS_PER_CONTENT + textTokens(c) : contentTokens(c, resolution));

export type TokenEstimateInput = Pick<GenerationRequest, 'contents'> &
  Partial<Pick<GenerationRequest, 'systemInstruction' | 'tools' | 'toolConfig' | 'generationConfig' | 'cachedContent'>>;

/** Input tokens a request is expected to cost: every part kind, tools, schema and cache included. */
export function estimateInputTokens(req: TokenEstimateInput): number {
  const resolution = req.generationConfig?.mediaResolution;
  const body = typeof req.contents === 'string' ? turnTokens(req.contents, resolution) : req.contents.reduce((n, c) => n + contentTokens(c, resolution), 0);
  const system = req.systemInstruction === undefined ? 0 : turnTokens(req.systemInstruction, resolution);
  // Declarations and output schemas reach the model as part of the prompt.
  const schema = req.generationConfig?.responseSchema ?? req.generationConfig?.responseJsonSchema;
  const extras = jsonTokens(req.tools) + jsonTokens(req.toolConfig) + jsonTokens(schema);
  const cache = req.cachedContent === undefined ? 0 : CACHED_CONTENT_TOKENS;
  return Math.max(1, body + system + extras + cache);
}
