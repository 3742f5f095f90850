/**
 * Replaces the exact values of secrets wherever they appear in a text. The
 * pattern-based scrubbing of the Gemini adapter (`AIza…`, `key=`) catches
 * key-shaped strings; this catches every configured secret, whatever its
 * format, when an upstream or a proxy echoes it back in an error.
 */
export const REDACTED = '[redacted]';

/** Shorter values are not scrubbed: they would match ordinary words (no real key is this short). */
const MIN_SECRET_LENGTH = 8;

export interface Scrubber {
  /** replaces the known secrets with the new set */
  set(secrets: Iterable<string>): void;
  scrub(text: string): string;
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

export function createScrubber(initial: Iterable<string> = []): Scrubber {
  let pattern: RegExp | null = null;
  const self: Scrubber = {
    set(secrets) {
      // longest first, so a secret that contains another is replaced whole
      const list = [...new Set([...secrets].filter((s) => s.length >= MIN_SECRET_LENGTH))].sort((a, b) => b.length - a.length);
      pattern = list.length ? new RegExp(list.map(escape).join('|'), 'g') : null;
    },
    scrub: (text) => (pattern === null ? text : text.replace(pattern, REDACTED)),
  };
  self.set(initial);
  return self;
}
