import { imageDimensions, pdfPageCount, wavByteRate, type Dimensions } from './media-headers.js';
import { mediaFamily } from './media-types.js';
import type { MediaResolution } from './request-config.js';
import { base64Bytes } from './request-size.js';

/**
 * Token estimates for media parts. Every number leans high: a low estimate
 * admits a call the minute's TPM cannot hold (a 429), a high one only holds
 * headroom until the call settles to Gemini's real promptTokenCount.
 *
 * Sources (Gemini API docs, 2025-2026):
 * - "Image understanding" / "Understand and count tokens": an image with both
 *   sides <= 384 px is 258 tokens; larger images are cut into 768x768 tiles of
 *   258 tokens each (Gemini 2.x).
 * - "Media resolution": Gemini 3 gives an image 280 / 560 / 1120 tokens at
 *   LOW / MEDIUM / HIGH, HIGH being the default for images; a PDF page 280 /
 *   560 / 1120 with MEDIUM the default; a video frame 70 (LOW, MEDIUM) or 280
 *   (HIGH). We take the larger of the Gemini 2.x and Gemini 3 figures, since a
 *   job may be served by either.
 * - "Audio understanding": 32 tokens per second of audio.
 * - "Video understanding": 263 tokens per second at the default 1 frame/s;
 *   we count the larger frame budget (258 on Gemini 2.x, 280 at Gemini 3
 *   HIGH) x fps plus 32 audio tokens per second, which stays above it.
 * - "Document understanding": 258 tokens per PDF page (Gemini 2.x); see above
 *   for Gemini 3.
 */
export const IMAGE_SMALL_PX = 384;
export const IMAGE_TILE_PX = 768;
export const IMAGE_TILE_TOKENS = 258;
/** Gemini 3 per-image budgets by media resolution (HIGH is its default for images). */
export const IMAGE_TOKENS = { LOW: 280, MEDIUM: 560, HIGH: 1120 } as const;
/** Size assumed for an image whose header cannot be read: a 12-megapixel phone photo. */
export const IMAGE_UNKNOWN: Dimensions = { width: 4032, height: 3024 };

export const AUDIO_TOKENS_PER_SECOND = 32;
/**
 * Audio duration from file size: the lowest bitrate commonly seen per format,
 * so durations (and tokens) come out long rather than short. WAV files are
 * read exactly from their header.
 */
export const AUDIO_MIN_BYTES_PER_SECOND: Readonly<Record<string, number>> = {
  'audio/mp3': 4_000, // 32 kbit/s speech MP3
  'audio/mpeg': 4_000,
  'audio/aac': 3_000, // 24 kbit/s HE-AAC
  'audio/ogg': 2_000, // 16 kbit/s Opus/Vorbis voice notes
  'audio/flac': 8_000, // 64 kbit/s: lossless 8 kHz mono
  'audio/wav': 8_000, // 8 kHz 8-bit mono, when the header is unreadable
  'audio/aiff': 8_000,
};

/** Frame tokens by media resolution: the larger of the Gemini 2.x and Gemini 3 figures. */
export const VIDEO_FRAME_TOKENS = { LOW: 70, MEDIUM: 258, HIGH: 280 } as const;
/** Video duration from file size: 500 kbit/s, low-quality 360p web video. */
export const VIDEO_MIN_BYTES_PER_SECOND = 62_500;

/** Per page by media resolution (Gemini 3's MEDIUM default already exceeds 2.x's 258). */
export const PDF_PAGE_TOKENS = { LOW: 280, MEDIUM: 560, HIGH: 1120 } as const;
/** Pages assumed per byte when a PDF shows no page count: 25 KB per page, at most Gemini's 1,000 pages. */
export const PDF_MIN_BYTES_PER_PAGE = 25_000;
export const PDF_MAX_PAGES = 1_000;

/**
 * A fileData part's size is unknown at enqueue (it lives in the Files API or
 * at a URL): assume a large-ish attachment of its kind.
 */
export const FILE_ASSUMED = { audioSeconds: 600, videoSeconds: 120, pdfPages: 50, textTokens: 32_768 } as const;

const BYTES_PER_TEXT_TOKEN = 3.5;
// Enough base64 for any header we read (JPEG SOF markers follow EXIF/ICC blocks).
const HEADER_BASE64_CHARS = 256 * 1024;

type Level = 'LOW' | 'MEDIUM' | 'HIGH';
const level = (r: MediaResolution | undefined, fallback: Level): Level =>
  r === 'MEDIA_RESOLUTION_LOW' ? 'LOW' : r === 'MEDIA_RESOLUTION_MEDIUM' ? 'MEDIUM' : r === 'MEDIA_RESOLUTION_HIGH' ? 'HIGH' : fallback;

export function imageTokens(size: Dimensions | null, resolution: MediaResolution | undefined): number {
  const lvl = level(resolution, 'HIGH');
  if (lvl !== 'HIGH') return IMAGE_TOKENS[lvl];
  const { width, height } = size ?? IMAGE_UNKNOWN;
  const tiled = width <= IMAGE_SMALL_PX && height <= IMAGE_SMALL_PX ? IMAGE_TILE_TOKENS : Math.ceil(width / IMAGE_TILE_PX) * Math.ceil(height / IMAGE_TILE_PX) * IMAGE_TILE_TOKENS;
  return Math.max(tiled, IMAGE_TOKENS.HIGH);
}

export function audioTokens(seconds: number): number {
  return Math.ceil(seconds) * AUDIO_TOKENS_PER_SECOND;
}

export interface VideoClip {
  startOffset?: string | undefined;
  endOffset?: string | undefined;
  fps?: number | undefined;
}
const seconds = (d: string | undefined): number | undefined => (d === undefined ? undefined : Number(d.slice(0, -1)));

export function videoTokens(fileSeconds: number, clip: VideoClip | undefined, resolution: MediaResolution | undefined): number {
  const start = seconds(clip?.startOffset) ?? 0;
  const end = seconds(clip?.endOffset);
  // Only a clip that surely ends inside the file shortens it.
  const length = end !== undefined && end > start ? Math.min(fileSeconds, end - start) : fileSeconds;
  const perSecond = VIDEO_FRAME_TOKENS[level(resolution, 'HIGH')] * (clip?.fps ?? 1) + AUDIO_TOKENS_PER_SECOND;
  return Math.ceil(Math.ceil(length) * perSecond);
}

export function pdfTokens(pages: number, resolution: MediaResolution | undefined): number {
  return Math.min(pages, PDF_MAX_PAGES) * PDF_PAGE_TOKENS[level(resolution, 'MEDIUM')];
}

const decodeHead = (data: string): Uint8Array => Buffer.from(data.slice(0, HEADER_BASE64_CHARS), 'base64');

/** Tokens of one inlineData part, read from its bytes where the format allows. */
export function inlineTokens(blob: { mimeType: string; data: string }, clip: VideoClip | undefined, resolution: MediaResolution | undefined): number {
  const bytes = base64Bytes(blob.data);
  switch (mediaFamily(blob.mimeType)) {
    case 'image':
      return imageTokens(imageDimensions(decodeHead(blob.data)), resolution);
    case 'audio': {
      const rate = wavByteRate(decodeHead(blob.data)) ?? AUDIO_MIN_BYTES_PER_SECOND[blob.mimeType] ?? 2_000;
      return audioTokens(bytes / rate);
    }
    case 'video':
      return videoTokens(bytes / VIDEO_MIN_BYTES_PER_SECOND, clip, resolution);
    case 'pdf': {
      const pages = pdfPageCount(Buffer.from(blob.data, 'base64')) ?? Math.ceil(bytes / PDF_MIN_BYTES_PER_PAGE);
      return pdfTokens(Math.max(1, pages), resolution);
    }
    case 'text':
    case null:
      return Math.ceil(bytes / BYTES_PER_TEXT_TOKEN);
  }
}

/** Tokens of one fileData part: its size is unknown, so a large attachment of its kind is assumed. */
export function fileTokens(file: { mimeType?: string | undefined }, clip: VideoClip | undefined, resolution: MediaResolution | undefined): number {
  const byKind = {
    image: imageTokens(null, resolution),
    audio: audioTokens(FILE_ASSUMED.audioSeconds),
    video: videoTokens(FILE_ASSUMED.videoSeconds, clip, resolution),
    pdf: pdfTokens(FILE_ASSUMED.pdfPages, resolution),
    text: FILE_ASSUMED.textTokens,
  };
  const family = mediaFamily(file.mimeType);
  return family === null ? Math.max(...Object.values(byKind)) : byKind[family];
}
