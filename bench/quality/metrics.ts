/**
 * The figures of one quality run, computed from job states (what the
 * chatbot saw) and the stand-in's call log (what upstream saw).
 */
import type { SimCall } from '../../src/simulator/index.js';
import { limitsOf, type Scenario } from '../scenario.js';
import type { PolicyRun } from './run-policy.js';
import { countViolations, type ViolationCount } from './violations.js';

export interface KeyUse {
  keyId: string;
  project: string;
  /** per model: counted calls on this key, and the (project, model) capacity over the run */
  byModel: Record<string, { ok: number; rejected429: number; capacity: number; utilisation: number }>;
}

export interface QualityResult {
  scenario: string;
  policy: string;
  durationMs: number;
  timedOut: boolean;
  messages: number;
  completed: number;
  failed: number;
  lost: number;
  successRate: number;
  servedByModel: Record<string, number>;
  failedByReason: Record<string, number>;
  upstreamCalls: number;
  upstreamByStatus: Record<string, number>;
  per1000_429: number;
  priority: ViolationCount;
  latencyMs: { p50: number | null; p99: number | null };
  keys: KeyUse[];
  /** successful upstream calls per model per second since the run started */
  timeline: Record<string, number[]>;
}

export function percentile(sorted: readonly number[], p: number): number | null {
  if (!sorted.length) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? null;
}

const isGeneration = (c: SimCall): boolean => c.method === 'generateContent' || c.method === 'streamGenerateContent';

export function qualityOf(s: Scenario, run: PolicyRun): QualityResult {
  const jobs = run.jobs;
  const completed = jobs.filter((j) => j.state === 'completed');
  const failed = jobs.filter((j) => j.state === 'failed');
  const tally = (xs: Array<string | null>): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const x of xs) out[x ?? '?'] = (out[x ?? '?'] ?? 0) + 1;
    return out;
  };
  const gen = run.calls.filter(isGeneration);
  const byStatus = tally(gen.map((c) => String(c.status)));
  const latencies = completed.map((j) => (j.finishedAt ?? j.enqueuedAt) - j.enqueuedAt).sort((a, b) => a - b);
  const durationMs = run.endedAt - run.startedAt;

  const keys: KeyUse[] = s.keys.map((k) => {
    const byModel: KeyUse['byModel'] = {};
    for (const m of s.models) {
      const mine = gen.filter((c) => c.keyLabel === k.id && c.model === m);
      const scopeUsed = gen.filter((c) => c.counted && c.project === k.project && c.model === m).length;
      const ok = mine.filter((c) => c.counted).length;
      const l = limitsOf(s, k.project, m, 'standIn');
      const days = Math.floor(run.endedAt / s.dayLengthMs) - Math.floor(run.startedAt / s.dayLengthMs) + 1;
      const capacity = Math.min(l.rpm * Math.ceil(Math.max(durationMs, 1) / 60_000), l.rpd * days);
      byModel[m] = { ok, rejected429: mine.filter((c) => c.status === 429).length, capacity, utilisation: capacity ? scopeUsed / capacity : 0 };
    }
    return { keyId: k.id, project: k.project, byModel };
  });

  const seconds = Math.max(1, Math.ceil(durationMs / 1000));
  const timeline: Record<string, number[]> = Object.fromEntries(s.models.map((m) => [m, Array.from({ length: seconds }, () => 0)]));
  for (const c of gen) {
    if (c.status !== 200 || c.model === null) continue;
    const series = timeline[c.model];
    const b = Math.floor((c.at - run.startedAt) / 1000);
    if (series && b >= 0 && b < series.length) series[b] = (series[b] ?? 0) + 1;
  }

  return {
    scenario: s.name,
    policy: run.policy,
    durationMs,
    timedOut: run.timedOut,
    messages: s.workload.messages,
    completed: completed.length,
    failed: failed.length,
    lost: s.workload.messages - completed.length - failed.length,
    successRate: completed.length / s.workload.messages,
    servedByModel: tally(completed.map((j) => j.model)),
    failedByReason: tally(failed.map((j) => j.reason)),
    upstreamCalls: gen.length,
    upstreamByStatus: byStatus,
    per1000_429: gen.length ? ((byStatus['429'] ?? 0) * 1000) / gen.length : 0,
    priority: countViolations(s, run.calls),
    latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99) },
    keys,
    timeline,
  };
}
