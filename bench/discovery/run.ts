/**
 * Discovery of limits nobody configured, three cases (`npm run bench --
 * --discovery-only`): a 429 that names the limit (quotaValue), one that does
 * not, and a tier raise 100 -> 400 mid-run found after the quiet period.
 * Time is compressed (a 5 s window on both sides, 10 s for the raise). Writes
 * DIR/discovery.json and DIR/discovery-<case>.svg.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { discoverySvg } from '../report/svg.js';
import { maxInWindow, runDiscoveryCase, trueLimitAt, type DiscoveryCase, type DiscoveryRun } from './case.js';

const WINDOW_MS = 5_000;
const HOUR = 3_600_000;

export const DISCOVERY_CASES: readonly DiscoveryCase[] = [
  { name: 'quota-value', windowMs: WINDOW_MS, limit: 60, quotaValueInErrors: true, quietMs: HOUR, workers: 2, concurrency: 8, durationMs: 60_000 },
  { name: 'no-quota-value', windowMs: WINDOW_MS, limit: 60, quotaValueInErrors: false, quietMs: HOUR, workers: 2, concurrency: 8, durationMs: 120_000 },
  // a 10 s window: 400 calls in 5 s is more than a loaded 2-core machine sends
  { name: 'tier-raise', windowMs: 2 * WINDOW_MS, limit: 100, raise: { atMs: 60_000, to: 400 }, quotaValueInErrors: true, quietMs: 30_000, workers: 2, concurrency: 8, durationMs: 150_000 },
];

export interface DiscoveryCaseResult {
  name: string;
  windowMs: number;
  quotaValueInErrors: boolean;
  quietMs: number;
  /** the real limit per window at the start, and the raise */
  limit: number;
  raise: { atMs: number; to: number } | null;
  /** every 429 of the run, and those until the held limit settled */
  refused: number;
  refusedToSettle: number;
  /**
   * when (ms from the start) the held limit entered [95 %, 100 %] of the real
   * limit and stayed there for 3 windows; null if it never did
   */
  settledAtMs: number | null;
  /** after the raise: how long until it settled (null without a raise) */
  settledAfterRaiseMs: number | null;
  finalHeld: number | null;
  finalSource: string | null;
  /** the final held limit over the real one */
  finalFraction: number | null;
  /** mean successes per sliding window from one window after settling to the end, over the real limit */
  admittedFraction: number | null;
  /** the most successes in any window once the first 429 is a window old (never above the real limit upstream) */
  maxInWindowAfterLearning: number;
  timeline: { trueLimit: number[]; admitted: number[]; held: Array<{ atMs: number; limit: number; source: string }> };
}

export async function runDiscoveryBench(o: { outDir: string; redisUrl: string; cases?: readonly DiscoveryCase[] }): Promise<DiscoveryCaseResult[]> {
  const out: DiscoveryCaseResult[] = [];
  for (const c of o.cases ?? DISCOVERY_CASES) {
    const raise = c.raise ? `, raised to ${c.raise.to} at ${c.raise.atMs / 1000} s` : '';
    console.log(`\n▶ discovery ${c.name}: real limit ${c.limit} per ${c.windowMs / 1000} s window${raise}, quotaValue ${c.quotaValueInErrors ? 'in' : 'not in'} 429s, quiet ${c.quietMs / 1000} s, ${c.workers} workers × ${c.concurrency}, ${c.durationMs / 1000} s`);
    const run = await runDiscoveryCase(c, o.redisUrl, (line) => console.log(line));
    const r = summarize(run);
    out.push(r);
    const pct = (x: number | null): string => (x === null ? '–' : `${(x * 100).toFixed(1)}%`);
    const sec = (x: number | null): string => (x === null ? 'never' : `${(x / 1000).toFixed(1)} s`);
    console.log(
      `  ${c.name}: ${r.refused} × 429 (${r.refusedToSettle} until settled), settled at ${sec(r.settledAtMs)}${c.raise ? ` (${sec(r.settledAfterRaiseMs)} after the raise)` : ''}, held ${r.finalHeld ?? '?'} (${r.finalSource ?? '?'}) = ${pct(r.finalFraction)} of the real limit, admitted ${pct(r.admittedFraction)} per window, most in a window ${r.maxInWindowAfterLearning}`,
    );
    await writeFile(
      join(o.outDir, `discovery-${c.name}.svg`),
      discoverySvg({ title: `discovery — ${c.name}`, windowMs: c.windowMs, trueLimit: r.timeline.trueLimit, held: r.timeline.held, admitted: r.timeline.admitted, refusedAt: run.refusedAt }),
    );
    await writeFile(join(o.outDir, 'discovery.json'), `${JSON.stringify({ startedAt: new Date().toISOString(), cases: out }, null, 2)}\n`);
  }
  return out;
}

export function summarize(run: DiscoveryRun): DiscoveryCaseResult {
  const c = run.case;
  const seconds = Math.ceil(c.durationMs / 1000);
  const trueLimit = Array.from({ length: seconds }, (_, s) => trueLimitAt(c, s * 1000));
  const ok = [...run.okAt].sort((a, b) => a - b);
  // successes in the window ending at each second
  const admitted = trueLimit.map((_, s) => ok.filter((t) => t > s * 1000 - c.windowMs && t <= s * 1000).length);
  const from = c.raise?.atMs ?? 0;
  const band = (h: { atMs: number; limit: number }): boolean => {
    const real = trueLimitAt(c, h.atMs);
    return h.limit >= 0.95 * real && h.limit <= real;
  };
  const held = run.heldAt;
  let settledAtMs: number | null = null;
  for (let i = 0; i < held.length && settledAtMs === null; i++) {
    const h = held[i];
    if (!h || h.atMs < from || !band(h)) continue;
    const span = held.filter((x) => x.atMs >= h.atMs && x.atMs <= h.atMs + 3 * c.windowMs);
    const lastAt = held[held.length - 1]?.atMs ?? 0;
    if (span.every(band) && (lastAt >= h.atMs + 3 * c.windowMs || span.length === held.length - i)) settledAtMs = h.atMs;
  }
  const final = held[held.length - 1];
  const realAtEnd = trueLimitAt(c, c.durationMs);
  const after = settledAtMs === null ? [] : admitted.filter((_, s) => s * 1000 >= settledAtMs + c.windowMs);
  const firstRefused = run.refusedAt.length ? Math.min(...run.refusedAt) : c.durationMs;
  return {
    name: c.name,
    windowMs: c.windowMs,
    quotaValueInErrors: c.quotaValueInErrors,
    quietMs: c.quietMs,
    limit: c.limit,
    raise: c.raise ?? null,
    refused: run.refused,
    refusedToSettle: settledAtMs === null ? run.refused : run.refusedAt.filter((t) => t <= settledAtMs).length,
    settledAtMs,
    settledAfterRaiseMs: c.raise && settledAtMs !== null ? settledAtMs - c.raise.atMs : null,
    finalHeld: final?.limit ?? null,
    finalSource: final?.source ?? null,
    finalFraction: final ? final.limit / realAtEnd : null,
    admittedFraction: after.length ? after.reduce((a, b) => a + b, 0) / after.length / realAtEnd : null,
    maxInWindowAfterLearning: maxInWindow(run, firstRefused + c.windowMs),
    timeline: { trueLimit, admitted, held },
  };
}
