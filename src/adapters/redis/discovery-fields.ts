import { z } from 'zod';
import { QuotaflowError } from '../../errors.js';
import type { DiscoveryEvent, DiscoveryParams, DiscoveryPhase, DiscoveryState } from '../../core/discovery.js';

/**
 * The TypeScript half of commands/includes/discovery.lua: how the scripts
 * receive discovery params and events in ARGV, and how a dimension's state
 * fields in a scope's state hash read back as a DiscoveryState.
 */

/** Field suffixes in the order `discoveryFieldNames` lists them: limit, floor, phase, ceiling, last 429, last cut, since. */
export const DISCOVERY_FIELD_KEYS = ['l', 'f', 'p', 'c', 'q', 'x', 's'] as const;

/** The hash fields of one dimension (`rpm`, `tpm`, ...), in DISCOVERY_FIELD_KEYS order: HMGET them for parseDiscoveryFields. */
export function discoveryFieldNames(dim: string): string[] {
  return DISCOVERY_FIELD_KEYS.map((x) => `d.${dim}.${x}`);
}

/** The five params in the order discoveryParams(ARGV, i) reads them. String() round-trips a double exactly. */
export function discoveryParamArgs(p: DiscoveryParams): string[] {
  return [p.windowMs, p.quietMs, p.nearFraction, p.margin, p.stepFraction].map(String);
}

const opt = (v: number | null | undefined): string => (v === undefined || v === null ? '' : String(v));

/** An event as four ARGV values: kind, used, amount, quotaValue ('' when absent). */
export function discoveryEventArgs(e: DiscoveryEvent): [string, string, string, string] {
  switch (e.kind) {
    case 'success':
      return [e.kind, String(e.used), opt(e.amount), ''];
    case 'quota429':
      return [e.kind, opt(e.used), opt(e.amount), opt(e.quotaValue)];
    case 'other429':
      return [e.kind, '', '', ''];
  }
}

const PHASE_OF = { s: 'slow-start', a: 'additive', e: 'exact' } as const satisfies Record<string, DiscoveryPhase>;

const num = z.string().transform((v, ctx) => {
  const n = Number(v);
  if (v.trim() === '' || Number.isNaN(n)) ctx.addIssue({ code: 'custom', message: `not a number: ${JSON.stringify(v)}` });
  return n;
});
const fields = z.tuple([
  num,
  num,
  z.enum(['s', 'a', 'e']).transform((p) => PHASE_OF[p]),
  num.nullable(),
  num.nullable(),
  num.nullable(),
  num,
]);

/** One dimension's stored state from its HMGET reply; null when nothing is stored (it reads as the initial state at the floor). */
export function parseDiscoveryFields(dim: string, values: ReadonlyArray<string | null>): DiscoveryState | null {
  if (values[0] === null || values[0] === undefined) return null;
  const parsed = fields.safeParse(values);
  if (!parsed.success) {
    const names = discoveryFieldNames(dim);
    const problems = parsed.error.issues.map((i) => `${names[Number(i.path[0])] ?? dim}: ${i.message}`);
    throw new QuotaflowError('internal', `stored discovery state is malformed: ${problems.join('; ')}`);
  }
  const [limit, floor, phase, ceiling, last429At, lastCutAt, since] = parsed.data;
  return { limit, floor, phase, ceiling, last429At, lastCutAt, since };
}

const PHASE_LETTER = { 'slow-start': 's', additive: 'a', exact: 'e' } as const satisfies Record<DiscoveryPhase, string>;

/** One dimension's state as hash field/value pairs (the inverse of parseDiscoveryFields; absent values are left out). */
export function discoveryFieldValues(dim: string, s: DiscoveryState): Array<[string, string]> {
  const values: Array<string | null> = [String(s.limit), String(s.floor), PHASE_LETTER[s.phase], opt(s.ceiling) || null, opt(s.last429At) || null, opt(s.lastCutAt) || null, String(s.since)];
  return discoveryFieldNames(dim).flatMap((f, i) => (values[i] === null || values[i] === undefined ? [] : [[f, values[i]] as [string, string]]));
}
