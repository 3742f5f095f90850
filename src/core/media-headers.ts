import { inflateSync } from 'node:zlib';

/**
 * Reads what the token estimate needs from the first bytes of a media file:
 * image dimensions, WAV byte rate, PDF page count. Every reader returns null
 * rather than guessing when the bytes are not what they claim to be.
 */
export interface Dimensions {
  width: number;
  height: number;
}

const ascii = (b: Uint8Array, at: number, text: string): boolean => [...text].every((ch, i) => b[at + i] === ch.charCodeAt(0));
const u16be = (b: Uint8Array, at: number): number => ((b[at] ?? 0) << 8) | (b[at + 1] ?? 0);
const u16le = (b: Uint8Array, at: number): number => (b[at] ?? 0) | ((b[at + 1] ?? 0) << 8);
const u24le = (b: Uint8Array, at: number): number => u16le(b, at) | ((b[at + 2] ?? 0) << 16);
const u32be = (b: Uint8Array, at: number): number => u16be(b, at) * 65_536 + u16be(b, at + 2);
const u32le = (b: Uint8Array, at: number): number => u16le(b, at) + u16le(b, at + 2) * 65_536;
const dims = (width: number, height: number): Dimensions | null => (width > 0 && height > 0 ? { width, height } : null);

function png(b: Uint8Array): Dimensions | null {
  if (!ascii(b, 1, 'PNG') || !ascii(b, 12, 'IHDR')) return null;
  return dims(u32be(b, 16), u32be(b, 20));
}

function gif(b: Uint8Array): Dimensions | null {
  return ascii(b, 0, 'GIF8') ? dims(u16le(b, 6), u16le(b, 8)) : null;
}

function webp(b: Uint8Array): Dimensions | null {
  if (!ascii(b, 0, 'RIFF') || !ascii(b, 8, 'WEBP')) return null;
  if (ascii(b, 12, 'VP8X')) return dims(u24le(b, 24) + 1, u24le(b, 27) + 1);
  if (ascii(b, 12, 'VP8L')) {
    const [b0 = 0, b1 = 0, b2 = 0, b3 = 0] = b.subarray(21, 25);
    return dims(1 + (((b1 & 0x3f) << 8) | b0), 1 + (((b3 & 0x0f) << 10) | (b2 << 2) | ((b1 & 0xc0) >> 6)));
  }
  if (ascii(b, 12, 'VP8 ')) return dims(u16le(b, 26) & 0x3fff, u16le(b, 28) & 0x3fff);
  return null;
}

function jpeg(b: Uint8Array): Dimensions | null {
  if (b[0] !== 0xff || b[1] !== 0xd8) return null;
  let i = 2;
  while (i + 9 < b.length) {
    if (b[i] !== 0xff) return null;
    const marker = b[i + 1] ?? 0;
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    // SOF0..SOF15 carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) do not.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) return dims(u16be(b, i + 7), u16be(b, i + 5));
    const standalone = marker === 0x01 || (marker >= 0xd0 && marker <= 0xd9);
    i += standalone ? 2 : 2 + u16be(b, i + 2);
  }
  return null;
}

/** HEIF/HEIC: the largest 'ispe' (image spatial extent) box; grids list their tiles too. */
function heif(b: Uint8Array): Dimensions | null {
  if (!ascii(b, 4, 'ftyp')) return null;
  let best: Dimensions | null = null;
  for (let i = 8; i + 16 <= b.length; i++) {
    if (b[i] !== 0x69 || !ascii(b, i, 'ispe')) continue;
    const found = dims(u32be(b, i + 8), u32be(b, i + 12));
    if (found && (!best || found.width * found.height > best.width * best.height)) best = found;
  }
  return best;
}

/** Width and height from a PNG, JPEG, WebP, GIF or HEIF header; null when unreadable. */
export function imageDimensions(head: Uint8Array): Dimensions | null {
  return png(head) ?? jpeg(head) ?? webp(head) ?? gif(head) ?? heif(head);
}

/** Bytes per second of a RIFF/WAVE file (from its fmt chunk); null when not a WAV. */
export function wavByteRate(head: Uint8Array): number | null {
  if (!ascii(head, 0, 'RIFF') || !ascii(head, 8, 'WAVE')) return null;
  for (let at = 12; at + 16 <= head.length; at += 8 + u32le(head, at + 4) + (u32le(head, at + 4) % 2)) {
    if (ascii(head, at, 'fmt ')) {
      const rate = u32le(head, at + 16);
      return rate > 0 ? rate : null;
    }
  }
  return null;
}

const PAGE = /\/Type\s*\/Page(?![A-Za-z])/g;
const COUNT = /\/Type\s*\/Pages\b[^>]*?\/Count\s+(\d+)|\/Count\s+(\d+)[^>]*?\/Type\s*\/Pages\b/g;

function countPages(text: string): number {
  let pages = 0;
  for (const _ of text.matchAll(PAGE)) pages++;
  for (const m of text.matchAll(COUNT)) pages = Math.max(pages, Number(m[1] ?? m[2] ?? 0));
  return pages;
}

// A page tree is small; a stream that inflates beyond this is not worth reading (or is a bomb).
const MAX_INFLATED = 16 * 1024 * 1024;

/** Text of the compressed object streams, where PDF 1.5+ files may keep their page objects. */
function objectStreams(pdf: Uint8Array, text: string): string {
  const out: string[] = [];
  for (let at = text.indexOf('/ObjStm'); at !== -1; at = text.indexOf('/ObjStm', at + 1)) {
    const start = text.indexOf('stream', at);
    const end = start === -1 ? -1 : text.indexOf('endstream', start);
    if (end === -1) break;
    const bodyStart = start + 6 + (text[start + 6] === '\r' ? 2 : 1);
    try {
      out.push(inflateSync(pdf.subarray(bodyStart, end), { maxOutputLength: MAX_INFLATED }).toString('latin1'));
    } catch {
      // not Flate, or damaged: the other streams may still count
    }
  }
  return out.join('\n');
}

/** Page count of a PDF; null when the file shows none (not a PDF, or unreadable). */
export function pdfPageCount(pdf: Uint8Array): number | null {
  const text = Buffer.from(pdf.buffer, pdf.byteOffset, pdf.byteLength).toString('latin1');
  if (!text.startsWith('%PDF')) return null;
  const pages = countPages(text) || countPages(objectStreams(pdf, text));
  return pages > 0 ? pages : null;
}
