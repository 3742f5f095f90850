import { crc32 as zlibCrc32, deflateSync } from 'node:zlib';

/**
 * Tiny but real image files for token-estimate tests: the headers are
 * exactly what encoders write, the pixel data is minimal.
 */
export const crc32 = (bytes: Uint8Array): number => zlibCrc32(bytes);

function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** A 1-bit greyscale PNG, all black. */
function png(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.writeUInt8(1, 8); // bit depth
  ihdr.writeUInt8(0, 9); // greyscale
  const rows = Buffer.alloc((1 + Math.ceil(width / 8)) * height); // filter byte 0 + packed pixels per row
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, pngChunk('IHDR', ihdr), pngChunk('IDAT', deflateSync(rows)), pngChunk('IEND', Buffer.alloc(0))]);
}

const segment = (marker: number, body: Buffer): Buffer => {
  const head = Buffer.from([0xff, marker, 0, 0]);
  head.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([head, body]);
};

/** A baseline JPEG header: JFIF APP0, an EXIF-sized APP1 to skip, then SOF0 with the frame size. */
function jpeg(width: number, height: number): Buffer {
  const app0 = Buffer.from([0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]);
  const app1 = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), Buffer.alloc(2_000)]);
  const sof = Buffer.alloc(15);
  sof.writeUInt8(8, 0); // precision
  sof.writeUInt16BE(height, 1);
  sof.writeUInt16BE(width, 3);
  sof.writeUInt8(3, 5);
  Buffer.from([1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]).copy(sof, 6);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), segment(0xe0, app0), segment(0xe1, app1), segment(0xc0, sof), Buffer.from([0xff, 0xd9])]);
}

/** An extended-format (VP8X) WebP header: canvas size minus one, 24-bit little endian. */
function webp(width: number, height: number): Buffer {
  const b = Buffer.alloc(30);
  b.write('RIFF', 0, 'ascii');
  b.writeUInt32LE(22, 4);
  b.write('WEBPVP8X', 8, 'ascii');
  b.writeUInt32LE(10, 16);
  b.writeUIntLE(width - 1, 24, 3);
  b.writeUIntLE(height - 1, 27, 3);
  return b;
}

function gif(width: number, height: number): Buffer {
  const b = Buffer.alloc(13);
  b.write('GIF89a', 0, 'ascii');
  b.writeUInt16LE(width, 6);
  b.writeUInt16LE(height, 8);
  return b;
}

export function imageBytes(format: 'png' | 'jpeg' | 'webp' | 'gif', width: number, height: number): Uint8Array {
  return { png, jpeg, webp, gif }[format](width, height);
}
