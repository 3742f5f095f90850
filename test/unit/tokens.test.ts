import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { imageDimensions, pdfPageCount, wavByteRate } from '../../src/core/media-headers.js';
import {
  AUDIO_MIN_BYTES_PER_SECOND,
  AUDIO_TOKENS_PER_SECOND,
  FILE_ASSUMED,
  IMAGE_TILE_TOKENS,
  IMAGE_TOKENS,
  IMAGE_UNKNOWN,
  PDF_MIN_BYTES_PER_PAGE,
  PDF_PAGE_TOKENS,
  VIDEO_FRAME_TOKENS,
  VIDEO_MIN_BYTES_PER_SECOND,
  fileTokens,
  inlineTokens,
} from '../../src/core/media-tokens.js';
import type { Part } from '../../src/core/request.js';
import { CACHED_CONTENT_TOKENS, TOKENS_PER_CONTENT, estimateInputTokens, utf8Length } from '../../src/core/tokens.js';
import { crc32, imageBytes } from '../helpers/media.js';

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
const inline = (mimeType: string, bytes: Uint8Array): { mimeType: string; data: string } => ({ mimeType, data: b64(bytes) });
const tiles = (w: number, h: number): number => Math.ceil(w / 768) * Math.ceil(h / 768) * IMAGE_TILE_TOKENS;
const onePart = (part: Part): number => estimateInputTokens({ contents: [{ parts: [part] }] }) - TOKENS_PER_CONTENT;

describe('utf8Length', () => {
  it('matches Buffer.byteLength for ASCII, accents, CJK, emoji and lone surrogates', () => {
    for (const s of ['', 'hello', 'héllo wörld', '日本語のテキスト', 'emoji 😀👍🏽 mix', 'lone \ud800 surrogate', 'end \ud83d']) {
      expect(utf8Length(s), s).toBe(Buffer.byteLength(s, 'utf8'));
    }
  });
});

describe('estimateInputTokens: text', () => {
  it('a string prompt is one content: ceil(bytes / 3.5) + 4', () => {
    expect(estimateInputTokens({ contents: 'a'.repeat(35) })).toBe(10 + 4);
    expect(estimateInputTokens({ contents: 'a'.repeat(36) })).toBe(11 + 4);
  });

  it('sums parts and contents, and counts the system instruction', () => {
    const contents = [
      { role: 'user' as const, parts: [{ text: 'a'.repeat(7) }, { text: 'b'.repeat(7) }] },
      { role: 'model' as const, parts: [{ text: 'c'.repeat(7) }] },
    ];
    expect(estimateInputTokens({ contents })).toBe(2 + 2 + 4 + 2 + 4);
    expect(estimateInputTokens({ contents, systemInstruction: 'd'.repeat(7) })).toBe(14 + 2 + 4);
    expect(estimateInputTokens({ contents, systemInstruction: { parts: [{ text: 'd'.repeat(7) }] } })).toBe(14 + 2 + 4);
  });

  it('never falls below ceil(chars / 4) per part, whatever the script', () => {
    for (const text of ['plain english words here', 'ééééééééé', '中文文本測試中文文本', '😀😀😀😀😀', 'x']) {
      expect(estimateInputTokens({ contents: [{ parts: [{ text }] }] }), text).toBeGreaterThanOrEqual(Math.ceil(text.length / 4));
    }
  });

  it('is at least 1 even for empty text', () => {
    expect(estimateInputTokens({ contents: [{ parts: [{ text: '' }] }] })).toBeGreaterThanOrEqual(1);
  });
});

describe('image headers and tokens', () => {
  it('reads width and height from real PNG, JPEG, WebP and GIF headers', () => {
    for (const format of ['png', 'jpeg', 'webp', 'gif'] as const) {
      expect(imageDimensions(imageBytes(format, 1999, 801)), format).toEqual({ width: 1999, height: 801 });
    }
    expect(imageDimensions(new Uint8Array([1, 2, 3, 4]))).toBeNull();
  });

  it('a small image costs the larger of 258 and the Gemini 3 default', () => {
    expect(onePart({ inlineData: inline('image/png', imageBytes('png', 300, 200)) })).toBe(Math.max(IMAGE_TILE_TOKENS, IMAGE_TOKENS.HIGH));
  });

  it('a large image is tiled at 768x768, 258 tokens a tile', () => {
    for (const format of ['png', 'jpeg', 'webp'] as const) {
      expect(onePart({ inlineData: inline(`image/${format}`, imageBytes(format, 3000, 2000)) }), format).toBe(tiles(3000, 2000));
    }
  });

  it('media resolution LOW or MEDIUM caps an image; an unreadable header assumes a 12-megapixel photo', () => {
    const big = inline('image/jpeg', imageBytes('jpeg', 4000, 4000));
    expect(inlineTokens(big, undefined, 'MEDIA_RESOLUTION_LOW')).toBe(IMAGE_TOKENS.LOW);
    expect(inlineTokens(big, undefined, 'MEDIA_RESOLUTION_MEDIUM')).toBe(IMAGE_TOKENS.MEDIUM);
    expect(inlineTokens(inline('image/heic', new Uint8Array(64)), undefined, undefined)).toBe(tiles(IMAGE_UNKNOWN.width, IMAGE_UNKNOWN.height));
  });
});

/** A PCM WAV: 44-byte header, then `dataBytes` of silence. */
function wav(byteRate: number, dataBytes: number): Uint8Array {
  const b = Buffer.alloc(44 + dataBytes);
  b.write('RIFF', 0, 'ascii');
  b.writeUInt32LE(36 + dataBytes, 4);
  b.write('WAVEfmt ', 8, 'ascii');
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20); // PCM
  b.writeUInt16LE(1, 22); // mono
  b.writeUInt32LE(byteRate / 2, 24); // sample rate, 16-bit samples
  b.writeUInt32LE(byteRate, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36, 'ascii');
  b.writeUInt32LE(dataBytes, 40);
  return b;
}

describe('audio and video tokens', () => {
  it('WAV: duration from the header, 32 tokens a second', () => {
    const file = wav(32_000, 96_000);
    expect(wavByteRate(file)).toBe(32_000);
    expect(onePart({ inlineData: inline('audio/wav', file) })).toBe(Math.ceil(file.length / 32_000) * AUDIO_TOKENS_PER_SECOND);
  });

  it('compressed audio: duration from size at a low bitrate, so it comes out long', () => {
    const bytes = new Uint8Array(40_000);
    const tokens = onePart({ inlineData: inline('audio/mp3', bytes) });
    expect(tokens).toBe(Math.ceil(40_000 / (AUDIO_MIN_BYTES_PER_SECOND['audio/mp3'] ?? 0)) * AUDIO_TOKENS_PER_SECOND);
    // a 128 kbit/s MP3 of that size is 2.5 s: the estimate is well above it
    expect(tokens).toBeGreaterThan(2.5 * AUDIO_TOKENS_PER_SECOND);
  });

  it('video: frames x fps plus audio, clipped by videoMetadata only when the clip surely ends inside', () => {
    const bytes = new Uint8Array(VIDEO_MIN_BYTES_PER_SECOND * 20); // 20 s at the assumed bitrate
    const perSecond = VIDEO_FRAME_TOKENS.HIGH + AUDIO_TOKENS_PER_SECOND;
    expect(onePart({ inlineData: inline('video/mp4', bytes) })).toBe(20 * perSecond);
    expect(onePart({ inlineData: inline('video/mp4', bytes), videoMetadata: { startOffset: '5s', endOffset: '10s' } })).toBe(5 * perSecond);
    expect(onePart({ inlineData: inline('video/mp4', bytes), videoMetadata: { fps: 2 } })).toBe(20 * (2 * VIDEO_FRAME_TOKENS.HIGH + AUDIO_TOKENS_PER_SECOND));
    expect(onePart({ inlineData: inline('video/mp4', bytes), videoMetadata: { startOffset: '30s' } })).toBe(20 * perSecond);
  });
});

/** A PDF with `pages` page objects, plain or packed in a compressed object stream (PDF 1.5+). */
function pdf(pages: number, packed: boolean): Uint8Array {
  const kids = Array.from({ length: pages }, (_, i) => `${i + 3} 0 R`).join(' ');
  const objects = [`<< /Type /Pages /Kids [${kids}] /Count ${pages} >>`, ...Array.from({ length: pages }, () => '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>')];
  if (!packed) {
    const body = objects.map((o, i) => `${i + 2} 0 obj\n${o}\nendobj`).join('\n');
    return Buffer.from(`%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n${body}\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n`, 'latin1');
  }
  const stream = deflateSync(Buffer.from(objects.join('\n'), 'latin1'));
  const head = Buffer.from(`%PDF-1.5\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n9 0 obj\n<< /Type /ObjStm /N ${objects.length} /First 0 /Filter /FlateDecode /Length ${stream.length} >>\nstream\n`, 'latin1');
  return Buffer.concat([head, stream, Buffer.from('\nendstream\nendobj\n%%EOF\n', 'latin1')]);
}

describe('PDF tokens', () => {
  it('counts pages, also inside compressed object streams', () => {
    expect(pdfPageCount(pdf(3, false))).toBe(3);
    expect(pdfPageCount(pdf(4, true))).toBe(4);
    expect(onePart({ inlineData: inline('application/pdf', pdf(3, false)) })).toBe(3 * PDF_PAGE_TOKENS.MEDIUM);
  });

  it('an unreadable PDF is paged by size', () => {
    const junk = new Uint8Array(PDF_MIN_BYTES_PER_PAGE * 3 + 1);
    expect(pdfPageCount(junk)).toBeNull();
    expect(onePart({ inlineData: inline('application/pdf', junk) })).toBe(4 * PDF_PAGE_TOKENS.MEDIUM);
  });
});

describe('other part kinds', () => {
  it('fileData: a large attachment of its kind; no MIME type takes the largest', () => {
    expect(fileTokens({ mimeType: 'audio/ogg' }, undefined, undefined)).toBe(FILE_ASSUMED.audioSeconds * AUDIO_TOKENS_PER_SECOND);
    expect(fileTokens({ mimeType: 'application/pdf' }, undefined, undefined)).toBe(FILE_ASSUMED.pdfPages * PDF_PAGE_TOKENS.MEDIUM);
    const kinds = ['image/png', 'audio/mp3', 'video/mp4', 'application/pdf', 'text/plain'].map((mimeType) => fileTokens({ mimeType }, undefined, undefined));
    expect(onePart({ fileData: { fileUri: 'https://www.youtube.com/watch?v=x' } })).toBe(Math.max(...kinds));
  });

  it('function calls and responses, code and results: by the bytes of their JSON', () => {
    const call = { name: 'get_weather', args: { city: 'São Paulo', days: [1, 2, 3] } };
    expect(onePart({ functionCall: call })).toBe(Math.ceil(Buffer.byteLength(JSON.stringify(call)) / 3.5));
    const response = { name: 'get_weather', response: { output: 'x'.repeat(700) } };
    expect(onePart({ functionResponse: response })).toBe(Math.ceil(Buffer.byteLength(JSON.stringify(response)) / 3.5));
    const code = { language: 'PYTHON' as const, code: 'print(1)' };
    expect(onePart({ executableCode: code })).toBe(Math.ceil(Buffer.byteLength(JSON.stringify(code)) / 3.5));
  });

  it('a thought signature sent back counts too', () => {
    const sig = 'Q'.repeat(350);
    expect(onePart({ text: 'hi', thoughtSignature: sig }) - onePart({ text: 'hi' })).toBe(100);
  });

  it('tool declarations, tool config, the response schema and a context cache add to the prompt', () => {
    const contents = 'hello';
    const plain = estimateInputTokens({ contents });
    const tools = [{ functionDeclarations: [{ name: 'lookup', description: 'Finds a thing by its name in the catalogue' }] }];
    expect(estimateInputTokens({ contents, tools }) - plain).toBe(Math.ceil(Buffer.byteLength(JSON.stringify(tools)) / 3.5));
    const responseSchema = { type: 'OBJECT' as const, properties: { name: { type: 'STRING' as const } } };
    expect(estimateInputTokens({ contents, generationConfig: { responseMimeType: 'application/json', responseSchema } }) - plain).toBe(Math.ceil(Buffer.byteLength(JSON.stringify(responseSchema)) / 3.5));
    expect(estimateInputTokens({ contents, cachedContent: 'cachedContents/c' }) - plain).toBe(CACHED_CONTENT_TOKENS);
  });

  it('the helpers build real files', () => {
    // guards the fixtures themselves: a PNG chunk CRC as any decoder checks it
    const png = imageBytes('png', 10, 10);
    expect(Buffer.from(png).readUInt32BE(29)).toBe(crc32(Buffer.from(png).subarray(12, 29)));
  });
});
