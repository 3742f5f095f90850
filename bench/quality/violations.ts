/**
 * Priority violations, computed from the stand-in's own call log and the
 * limits it enforced (definition in bench/README.md):
 *
 * A counted generation call on model m, made with key k at stand-in time t,
 * is a violation when a model h before m in the chain of k's pool (the
 * owning tenant's chain for a tenant key; the fleet's chain for a central
 * key) had, on some project of a key of the same pool, room for that very
 * call throughout [t - GRACE_MS, t + GRACE_MS]: fewer than rpm counted calls
 * with arrival in (t - GRACE_MS - 60 s, t + GRACE_MS], input tokens of
 * those + the call's tokens <= tpm, and fewer than rpd counted calls that day
 * up to t + GRACE_MS. The span after t is there because a policy reserves
 * before it calls: a call leased on the higher model before this one may
 * reach the stand-in a little after it. It is "excused" when model h
 * answered a 5xx within the scenario's breakerOpenMs before t (the model
 * was failing, so leaving it was the point).
 */
import type { SimCall } from '../../src/simulator/index.js';
import { allTenants, limitsOf, type Scenario } from '../scenario.js';

export const GRACE_MS = 1_000;
const WINDOW_MS = 60_000;

export interface ViolationCount {
  violations: number;
  excused: number;
  /** a few examples, for the report */
  examples: string[];
}

interface ScopeLog {
  at: number[];
  tokens: number[]; // prefix sums, length n + 1
}

const isGeneration = (c: SimCall): boolean => c.method === 'generateContent' || c.method === 'streamGenerateContent';

function lowerBound(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((a[mid] ?? 0) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
const upperBound = (a: readonly number[], x: number): number => lowerBound(a, x + 1e-9);

export function countViolations(s: Scenario, calls: readonly SimCall[]): ViolationCount {
  const counted = calls.filter((c) => c.counted && isGeneration(c) && c.project !== null && c.model !== null).sort((a, b) => a.seq - b.seq);
  const scopes = new Map<string, ScopeLog>();
  for (const c of counted) {
    const id = `${c.project}|${c.model}`;
    const log = scopes.get(id) ?? { at: [], tokens: [0] };
    log.at.push(c.at);
    log.tokens.push((log.tokens[log.tokens.length - 1] ?? 0) + c.promptTokens);
    scopes.set(id, log);
  }
  const failing = new Map<string, number[]>();
  for (const c of calls) {
    if (!isGeneration(c) || c.status < 500 || c.model === null) continue;
    failing.set(c.model, [...(failing.get(c.model) ?? []), c.at]);
  }

  const keys = new Map(s.keys.map((k) => [k.id, k]));
  const tenants = new Map(allTenants(s).map((t) => [t.id, t]));
  const poolProjects = (tenant: string | null): string[] => [...new Set(s.keys.filter((k) => k.tenant === tenant).map((k) => k.project))];

  const hasRoom = (project: string, model: string, call: SimCall): boolean => {
    const l = limitsOf(s, project, model, 'standIn');
    const log = scopes.get(`${project}|${model}`);
    if (!log) return true;
    const hi = upperBound(log.at, call.at + GRACE_MS);
    const lo = upperBound(log.at, call.at - GRACE_MS - WINDOW_MS);
    const inWindow = Math.max(0, hi - lo);
    const tokens = (log.tokens[hi] ?? 0) - (log.tokens[Math.min(lo, hi)] ?? 0);
    const dayStart = Math.floor(call.at / s.dayLengthMs) * s.dayLengthMs;
    const today = Math.max(0, hi - lowerBound(log.at, dayStart));
    return inWindow < l.rpm && tokens + call.promptTokens <= l.tpm && today < l.rpd;
  };
  const failedRecently = (model: string, at: number): boolean => {
    const list = failing.get(model) ?? [];
    const i = upperBound(list, at) - 1;
    return i >= 0 && (list[i] ?? 0) >= at - s.breakerOpenMs;
  };

  const out: ViolationCount = { violations: 0, excused: 0, examples: [] };
  for (const c of counted) {
    const key = keys.get(c.keyLabel);
    if (!key || c.model === null) continue;
    const chain = key.tenant === null ? s.models : (tenants.get(key.tenant)?.models ?? s.models);
    const pos = chain.indexOf(c.model);
    if (pos <= 0) continue;
    const projects = poolProjects(key.tenant);
    let found: { model: string; project: string } | null = null;
    for (const higher of chain.slice(0, pos)) {
      const p = projects.find((proj) => hasRoom(proj, higher, c));
      if (p) {
        found = { model: higher, project: p };
        break;
      }
    }
    if (!found) continue;
    if (failedRecently(found.model, c.at)) out.excused++;
    else {
      out.violations++;
      if (out.examples.length < 5) out.examples.push(`call #${c.seq} ${c.model}@${c.keyLabel} while ${found.model}@${found.project} had room`);
    }
  }
  return out;
}
