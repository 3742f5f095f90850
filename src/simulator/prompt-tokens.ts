/**
 * The stand-in's token rule for prompts (documented, not Google's tokenizer;
 * the media numbers are the per-item and per-second rates Google publishes):
 * - text (system instruction and thought parts included): ceil(chars / 4),
 *   chars being UTF-16 code units;
 * - inlineData image/*: 258;
 * - inlineData audio/*: 32 per second, video/*: 263 per second, the seconds
 *   estimated from the decoded size at AUDIO_BYTES_PER_SECOND /
 *   VIDEO_BYTES_PER_SECOND (at least 1 s);
 * - inlineData application/pdf: 258 per page, pages = the `/Type /Page`
 *   objects in the decoded bytes (at least 1);
 * - inlineData text/*: the decoded text, as text; any other mime type: 258;
 * - fileData: 258, whatever the file;
 * - functionCall, functionResponse, executableCode, codeExecutionResult,
 *   toolCall, toolResponse: ceil(chars of their JSON / 4);
 * - thoughtSignature, videoMetadata and other part metadata: free;
 * - `tools`: ceil(chars of the JSON of the tools array / 4);
 * - `cachedContent`: CACHED_CONTENT_TOKENS more, reported both in
 *   promptTokenCount and as cachedContentTokenCount.
 * A request costs at least 1 token.
 */

export type Modality = 'TEXT' | 'IMAGE' | 'AUDIO' | 'VIDEO' | 'DOCUMENT';

export const IMAGE_TOKENS = 258;
export const FILE_DATA_TOKENS = 258;
export const PDF_PAGE_TOKENS = 258;
export const AUDIO_TOKENS_PER_SECOND = 32;
export const VIDEO_TOKENS_PER_SECOND = 263;
/** 128 kbit/s, a common rate for compressed speech and music. */
export const AUDIO_BYTES_PER_SECOND = 16_000;
/** 2 Mbit/s, a common rate for compressed 720p video. */
export const VIDEO_BYTES_PER_SECOND = 250_000;
export const CACHED_CONTENT_TOKENS = 1_024;

export interface TokenCost {
  modality: Modality;
  tokens: number;
}

export function countTextTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

export function jsonTokens(value: unknown): number {
  return countTextTokens(JSON.stringify(value) ?? '');
}

/** Decoded size of a base64 string without decoding it. */
export function base64Bytes(data: string): number {
  let padding = 0;
  if (data.endsWith('==')) padding = 2;
  else if (data.endsWith('=')) padding = 1;
  return Math.max(0, Math.floor((data.length * 3) / 4) - padding);
}

const PAGE_OBJECT = /\/Type\s*\/Page(?![A-Za-z])/g;

export function pdfPages(data: string): number {
  const text = Buffer.from(data, 'base64').toString('latin1');
  return Math.max(1, text.match(PAGE_OBJECT)?.length ?? 0);
}

const seconds = (bytes: number, perSecond: number): number => Math.max(1, Math.ceil(bytes / perSecond));

export function inlineDataCost(mimeType: string, data: string): TokenCost {
  const mime = mimeType.toLowerCase();
  if (mime.startsWith('image/')) return { modality: 'IMAGE', tokens: IMAGE_TOKENS };
  if (mime.startsWith('audio/')) return { modality: 'AUDIO', tokens: AUDIO_TOKENS_PER_SECOND * seconds(base64Bytes(data), AUDIO_BYTES_PER_SECOND) };
  if (mime.startsWith('video/')) return { modality: 'VIDEO', tokens: VIDEO_TOKENS_PER_SECOND * seconds(base64Bytes(data), VIDEO_BYTES_PER_SECOND) };
  if (mime === 'application/pdf') return { modality: 'DOCUMENT', tokens: PDF_PAGE_TOKENS * pdfPages(data) };
  if (mime.startsWith('text/')) return { modality: 'TEXT', tokens: countTextTokens(Buffer.from(data, 'base64').toString('utf8')) };
  return { modality: 'DOCUMENT', tokens: IMAGE_TOKENS };
}

export function fileDataModality(mimeType: string): Modality {
  const mime = mimeType.toLowerCase();
  if (mime.startsWith('image/')) return 'IMAGE';
  if (mime.startsWith('audio/')) return 'AUDIO';
  if (mime.startsWith('video/')) return 'VIDEO';
  return mime.startsWith('text/') ? 'TEXT' : 'DOCUMENT';
}

const MODALITIES: readonly Modality[] = ['TEXT', 'IMAGE', 'AUDIO', 'VIDEO', 'DOCUMENT'];

/** Prompt tokens by modality; `total` is what TPM counts and promptTokenCount reports. */
export class PromptTally {
  private readonly byModality: Record<Modality, number> = { TEXT: 0, IMAGE: 0, AUDIO: 0, VIDEO: 0, DOCUMENT: 0 };
  private sum = 0;
  private cachedDetails: Array<{ modality: Modality; tokenCount: number }> | undefined;
  cached = 0;

  add(cost: TokenCost): void {
    if (cost.tokens <= 0) return;
    this.byModality[cost.modality] += cost.tokens;
    this.sum += cost.tokens;
    this.cachedDetails = undefined;
  }

  get total(): number {
    return Math.max(1, this.sum);
  }

  /** promptTokensDetails as Google reports it: one entry per modality present, TEXT first. */
  details(): Array<{ modality: Modality; tokenCount: number }> {
    if (this.cachedDetails) return this.cachedDetails;
    const out = MODALITIES.filter((m) => this.byModality[m] > 0).map((modality) => ({ modality, tokenCount: this.byModality[modality] }));
    this.cachedDetails = out.length ? out : [{ modality: 'TEXT', tokenCount: 1 }];
    return this.cachedDetails;
  }
}
