/** UTF-8 length without allocating an encoded copy (prompts can be megabytes). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      // A surrogate pair is one 4-byte code point; a lone surrogate encodes as 3 (U+FFFD).
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/** UTF-8 length of a value as JSON; structured parts travel (and are tokenised) as JSON. */
export function jsonLength(value: unknown): number {
  return value === undefined ? 0 : utf8Length(JSON.stringify(value));
}
