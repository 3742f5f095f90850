import type { z } from 'zod';
import { CompatError } from './problems.js';

/** A path as OpenAI names parameters: `messages[2].content[0].image_url.url`. */
export function paramName(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, seg) => (typeof seg === 'number' ? `${out}[${seg}]` : out === '' ? String(seg) : `${out}.${String(seg)}`), '');
}

/** Every zod issue in one 400, the first one's path as `param`. */
export function paramIssuesError(issues: readonly z.core.$ZodIssue[]): CompatError {
  const lines = issues.map((i) => ({ param: paramName(i.path), message: i.message }));
  const first = lines[0];
  const message = lines.map((l) => (l.param === '' ? l.message : `${l.param}: ${l.message}`)).join('; ');
  return new CompatError({ kind: 'invalid_argument', message: message || 'invalid request', ...(first && first.param !== '' ? { param: first.param } : {}), code: 'invalid_value' });
}
