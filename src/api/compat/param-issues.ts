import type { z } from 'zod';
import { CompatError } from './problems.js';

/** A path as OpenAI names parameters: `messages[2].content[0].image_url.url`. */
export function paramName(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, seg) => (typeof seg === 'number' ? `${out}[${seg}]` : out === '' ? String(seg) : `${out}.${String(seg)}`), '');
}

/** A union's issues as the one alternative the input was meant as (a content array, not a string), when that can be told. */
function flatten(issues: readonly z.core.$ZodIssue[]): Array<{ path: PropertyKey[]; message: string }> {
  return issues.flatMap((i) => {
    if (i.code === 'invalid_union' && i.errors.length > 0) {
      const meant = i.errors.filter((branch) => !branch.every((e) => e.code === 'invalid_type' && e.path.length === 0));
      if (meant.length === 1 && meant[0]) return flatten(meant[0].map((e) => ({ ...e, path: [...i.path, ...e.path] })));
    }
    return [{ path: i.path, message: i.message }];
  });
}

/** Every zod issue in one 400, the first one's path as `param`. */
export function paramIssuesError(issues: readonly z.core.$ZodIssue[]): CompatError {
  const lines = flatten(issues).map((i) => ({ param: paramName(i.path), message: i.message }));
  const first = lines[0];
  const message = lines.map((l) => (l.param === '' ? l.message : `${l.param}: ${l.message}`)).join('; ');
  return new CompatError({ kind: 'invalid_argument', message: message || 'invalid request', ...(first && first.param !== '' ? { param: first.param } : {}), code: 'invalid_value' });
}
