/**
 * URLs as they may be logged. A query parameter whose name looks secret keeps
 * its name and loses its value; the name is judged after decoding (`+`,
 * `%xx`, repeatedly), so `tok%65n=` is a token like `token=` is. A query that
 * does not decode is not logged at all: what it holds cannot be judged.
 */
export const REDACTED = '[redacted]';
export const UNPARSEABLE_QUERY = '[unparseable query]';

// anywhere in the name: words that only ever name secrets
const SECRET_WORD = /token|secret|passw(?:or)?d|api[-_.\s]?key|signature|credential|authorization/;
// at the end of the name: short words that name secrets there (`key`, `x-goog-api-key`, `sig`, `pwd`)
const SECRET_SUFFIX = /(?:key|sig|pwd|auth)$/;
// `key[]`, `key[0]`, `a[key]`: what bracket notation would make of the name
const BRACKETS = /\[[^\]]*\]/g;
const MAX_DECODE_ROUNDS = 4;

/** Whether a decoded parameter name suggests its value is a secret (case-insensitive). */
export function isSecretName(decodedName: string): boolean {
  const name = decodedName.toLowerCase();
  if (SECRET_WORD.test(name)) return true;
  const inner = [...name.matchAll(BRACKETS)].map((m) => m[0].slice(1, -1));
  return [name.replace(BRACKETS, ''), ...inner].some((part) => SECRET_SUFFIX.test(part.replace(/[^a-z0-9]/g, '')));
}

/** One round of form decoding; undefined when the text holds a malformed escape. */
function decodeOnce(text: string): string | undefined {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/**
 * The name as a lenient reader might end up seeing it: decoded until it stops
 * changing (a double-encoded `tok%2565n` is `token` to anyone decoding twice).
 * Undefined when the first decoding fails.
 */
function decodedName(raw: string): string | undefined {
  let name = decodeOnce(raw);
  for (let round = 1; name !== undefined && round < MAX_DECODE_ROUNDS; round++) {
    const next = decodeOnce(name);
    if (next === undefined || next === name) break;
    name = next;
  }
  return name;
}

/**
 * The query without secret values, or undefined when any part of it does not
 * decode. Separators (`&`, and `;` which some parsers also split on) are kept
 * as they came; parameters without `=` are names only and stay as they are.
 */
export function redactQuery(query: string): string | undefined {
  const parts = query.split(/([&;])/);
  const out: string[] = [];
  for (const part of parts) {
    if (part === '&' || part === ';' || part === '') {
      out.push(part);
      continue;
    }
    const eq = part.indexOf('=');
    const rawName = eq === -1 ? part : part.slice(0, eq);
    const name = decodedName(rawName);
    if (name === undefined) return undefined;
    if (eq === -1) {
      out.push(part);
      continue;
    }
    if (decodeOnce(part.slice(eq + 1)) === undefined) return undefined;
    out.push(isSecretName(name) ? `${rawName}=${REDACTED}` : part);
  }
  return out.join('');
}

/** A request URL fit for a log line: secret query values replaced, an undecodable query dropped. */
export function loggableUrl(url: string): string {
  const q = url.indexOf('?');
  if (q === -1) return url;
  const redacted = redactQuery(url.slice(q + 1));
  return `${url.slice(0, q + 1)}${redacted ?? UNPARSEABLE_QUERY}`;
}
