import { paramError } from './problems.js';

/**
 * Media in OpenAI messages arrives as URLs. Data URLs become inlineData.
 * Remote http(s) URLs are refused rather than fetched: fetching would let
 * any tenant make this server request arbitrary addresses (internal ones
 * included), and would hold the request for a download quotaflow cannot
 * bound well; the caller downloads the file and sends it inline instead.
 */
export interface InlineData {
  mimeType: string;
  data: string;
}

const MIME = /^[\w.+-]+\/[\w.+-]+$/;

/** `data:<mime>[;param=value]*;base64,<data>` as inlineData; a 400 naming `param` otherwise. */
export function inlineDataOf(url: string, param: string): InlineData {
  if (/^https?:\/\//i.test(url)) {
    throw paramError(param, 'remote URLs are not fetched: send the file inline as a data URL (data:image/png;base64,...)');
  }
  const comma = url.indexOf(',');
  if (!url.startsWith('data:') || comma === -1) throw paramError(param, 'expected a data URL (data:<mime type>;base64,<data>)');
  const meta = url.slice('data:'.length, comma).split(';');
  const mimeType = (meta[0] ?? '').toLowerCase();
  if (!MIME.test(mimeType)) throw paramError(param, 'the data URL names no MIME type');
  if (meta.at(-1)?.toLowerCase() !== 'base64') throw paramError(param, 'the data URL must be base64-encoded (;base64,)');
  return { mimeType, data: url.slice(comma + 1) };
}

/** input_audio formats as MIME types. */
export function audioMimeType(format: 'wav' | 'mp3'): string {
  return format === 'wav' ? 'audio/wav' : 'audio/mp3';
}
