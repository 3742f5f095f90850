import type { GenerationResult } from '../../adapters/queue/job-contract.js';

export interface UpstreamTotals {
  calls: number;
  byStatus: Record<string, number>;
}

function countBy<T>(items: readonly T[], key: (t: T) => string): Array<[string, number]> {
  const m = new Map<string, number>();
  for (const i of items) m.set(key(i), (m.get(key(i)) ?? 0) + 1);
  return [...m].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

function table(title: string, rows: Array<[string, number]>, total: number): string[] {
  if (!rows.length) return [];
  const w = Math.max(...rows.map(([k]) => k.length), 10);
  return [title, ...rows.map(([k, n]) => `  ${k.padEnd(w)}  ${String(n).padStart(5)}  ${((100 * n) / Math.max(total, 1)).toFixed(1).padStart(5)}%`), ''];
}

/** The demo's closing table: where answers came from, what failed, what upstream saw. */
export function printSummary(s: {
  results: readonly GenerationResult[];
  failures: ReadonlyArray<{ reason: string }>;
  elapsedMs: number;
  upstream: UpstreamTotals;
  out: (line: string) => void;
}): void {
  const n = s.results.length + s.failures.length;
  const lines = [
    '',
    `summary: ${s.results.length}/${n} answered, ${s.failures.length} failed, in ${(s.elapsedMs / 1000).toFixed(1)} s`,
    '',
    ...table('served by model', countBy(s.results, (r) => r.model), s.results.length),
    ...table('served by key', countBy(s.results, (r) => `${r.keyId} (${r.project})`), s.results.length),
    ...table('own vs central keys', countBy(s.results, (r) => (r.central ? 'central' : 'own')), s.results.length),
    ...table('failures by reason', countBy(s.failures, (f) => f.reason), n),
    ...table('upstream answers by HTTP status', Object.entries(s.upstream.byStatus).sort(), s.upstream.calls),
    `upstream calls: ${s.upstream.calls} for ${n} messages; 429s: ${s.upstream.byStatus['429'] ?? 0}`,
  ];
  for (const l of lines) s.out(l);
}
