/**
 * How strong a tenant token must be. A token is the only thing between the
 * internet and a tenant's quota, so it must be unguessable: at least 32
 * characters, at least two kinds of character (lower case, upper case,
 * digits, others), and at least 80 bits by the Shannon estimate of its own
 * characters (length × entropy per character), which catches long strings
 * of repeated characters. The estimate undercounts short random tokens (32
 * random hex digits carry 128 bits, score about 115 and rarely below 95),
 * hence a threshold well below the real strength asked for.
 * `openssl rand -hex 32`, `openssl rand -base64 32` and a random UUID pass;
 * `aaaa…1`, `tenant-token-0001` and a short word do not.
 */
export const TOKEN_MIN_LENGTH = 32;
export const TOKEN_MIN_BITS = 80;

const CLASSES = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^a-zA-Z0-9]/];

/** Why a token is too weak, in words that never quote the token; null when it is strong enough. */
export function tokenWeakness(token: string): string | null {
  if (token.length < TOKEN_MIN_LENGTH) return `is ${token.length} characters long; use at least ${TOKEN_MIN_LENGTH} random characters (e.g. \`openssl rand -hex 32\`)`;
  if (CLASSES.filter((c) => c.test(token)).length < 2) return 'uses one kind of character only; use random letters and digits (e.g. `openssl rand -hex 32`)';
  if (estimatedBits(token) < TOKEN_MIN_BITS) return `is too predictable (repeated characters); use random characters (e.g. \`openssl rand -hex 32\`)`;
  return null;
}

/** length × Shannon entropy of the token's own character frequencies. */
export function estimatedBits(token: string): number {
  const counts = new Map<string, number>();
  for (const c of token) counts.set(c, (counts.get(c) ?? 0) + 1);
  const n = [...token].length;
  let perChar = 0;
  for (const k of counts.values()) perChar -= (k / n) * Math.log2(k / n);
  return perChar * n;
}
