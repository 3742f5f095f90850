/**
 * Requests per model over time, both policies, as a hand-written SVG: one
 * panel per policy, one polyline per model (successful upstream calls per
 * second since the run started), same axes in both panels.
 */
import type { QualityResult } from '../quality/metrics.js';

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];
const W = 900;
const PANEL_H = 220;
const M = { left: 56, right: 170, top: 34, bottom: 34 };

const esc = (t: string): string => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function timelineSvg(title: string, runs: readonly QualityResult[]): string {
  const models = [...new Set(runs.flatMap((r) => Object.keys(r.timeline)))];
  const seconds = Math.max(1, ...runs.flatMap((r) => Object.values(r.timeline).map((s) => s.length)));
  const peak = Math.max(1, ...runs.flatMap((r) => Object.values(r.timeline).flat()));
  const yMax = niceCeil(peak);
  const plotW = W - M.left - M.right;
  const plotH = PANEL_H - M.top - M.bottom;
  const parts: string[] = [];
  const H = PANEL_H * runs.length + 10;
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  runs.forEach((run, pi) => {
    const oy = pi * PANEL_H;
    const x = (sec: number): number => M.left + (seconds <= 1 ? 0 : (sec / (seconds - 1)) * plotW);
    const y = (v: number): number => oy + M.top + plotH - (v / yMax) * plotH;
    parts.push(`<text x="${M.left}" y="${oy + 20}" font-size="14" font-weight="bold">${esc(`${title} — ${run.policy}`)}</text>`);
    for (let i = 0; i <= 4; i++) {
      const v = (yMax * i) / 4;
      parts.push(`<line x1="${M.left}" x2="${M.left + plotW}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e4e4e4"/>`);
      parts.push(`<text x="${M.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${fmt(v)}</text>`);
    }
    const step = Math.max(1, Math.ceil(seconds / 10));
    for (let s = 0; s < seconds; s += step) {
      parts.push(`<text x="${x(s).toFixed(1)}" y="${oy + M.top + plotH + 16}" text-anchor="middle">${s}s</text>`);
    }
    parts.push(`<line x1="${M.left}" x2="${M.left}" y1="${oy + M.top}" y2="${oy + M.top + plotH}" stroke="#333"/>`);
    parts.push(`<line x1="${M.left}" x2="${M.left + plotW}" y1="${oy + M.top + plotH}" y2="${oy + M.top + plotH}" stroke="#333"/>`);
    parts.push(`<text transform="translate(14 ${oy + M.top + plotH / 2}) rotate(-90)" text-anchor="middle">requests/s (200)</text>`);
    models.forEach((m, mi) => {
      const series = run.timeline[m] ?? [];
      const color = COLORS[mi % COLORS.length] ?? '#000';
      const pts = series.map((v, s) => `${x(s).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
      if (pts) parts.push(`<polyline fill="none" stroke="${color}" stroke-width="1.8" points="${pts}"/>`);
      const total = series.reduce((a, b) => a + b, 0);
      const ly = oy + M.top + 14 + mi * 18;
      parts.push(`<line x1="${W - M.right + 12}" x2="${W - M.right + 32}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" stroke-width="3"/>`);
      parts.push(`<text x="${W - M.right + 38}" y="${ly}">${esc(`${m} (${total})`)}</text>`);
    });
  });
  parts.push('</svg>');
  return parts.join('\n');
}

function niceCeil(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

export interface DiscoveryChart {
  title: string;
  /** one value per second since the start */
  trueLimit: number[];
  /** the limit quotaflow held, sampled (ms from the start) */
  held: Array<{ atMs: number; limit: number }>;
  /** successful upstream calls in the window ending at each second */
  admitted: number[];
  /** when the stand-in answered 429 (ms from the start) */
  refusedAt: number[];
  windowMs: number;
}

/** A discovery run: the real limit, the limit quotaflow held and what was admitted per window, over time; 429s as red ticks. */
export function discoverySvg(c: DiscoveryChart): string {
  const seconds = Math.max(2, c.trueLimit.length);
  const yMax = niceCeil(Math.max(1, ...c.trueLimit, ...c.held.map((h) => h.limit), ...c.admitted) * 1.05);
  const H = 300;
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const x = (sec: number): number => M.left + (sec / (seconds - 1)) * plotW;
  const y = (v: number): number => M.top + plotH - (v / yMax) * plotH;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  parts.push(`<text x="${M.left}" y="20" font-size="14" font-weight="bold">${esc(c.title)}</text>`);
  for (let i = 0; i <= 4; i++) {
    const v = (yMax * i) / 4;
    parts.push(`<line x1="${M.left}" x2="${M.left + plotW}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e4e4e4"/>`);
    parts.push(`<text x="${M.left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${fmt(v)}</text>`);
  }
  const step = Math.max(1, Math.ceil(seconds / 10));
  for (let s = 0; s < seconds; s += step) parts.push(`<text x="${x(s).toFixed(1)}" y="${M.top + plotH + 16}" text-anchor="middle">${s}s</text>`);
  parts.push(`<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${M.top + plotH}" stroke="#333"/>`);
  parts.push(`<line x1="${M.left}" x2="${M.left + plotW}" y1="${M.top + plotH}" y2="${M.top + plotH}" stroke="#333"/>`);
  parts.push(`<text transform="translate(14 ${M.top + plotH / 2}) rotate(-90)" text-anchor="middle">requests per ${fmt(c.windowMs / 1000)} s window</text>`);
  const line = (pts: Array<[number, number]>, color: string, extra = ''): void => {
    if (pts.length) parts.push(`<polyline fill="none" stroke="${color}" stroke-width="1.8"${extra} points="${pts.map(([s, v]) => `${x(s).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"/>`);
  };
  // the real limit as steps, the held limit as sampled, admissions per sliding window each second
  line(c.trueLimit.flatMap((v, s): Array<[number, number]> => (s > 0 && c.trueLimit[s - 1] !== v ? [[s, c.trueLimit[s - 1] ?? v], [s, v]] : [[s, v]])), '#333', ' stroke-dasharray="6 4"');
  line(c.admitted.map((v, s): [number, number] => [s, v]), COLORS[0] ?? '#000');
  line(c.held.map((h): [number, number] => [Math.min(seconds - 1, h.atMs / 1000), h.limit]), COLORS[1] ?? '#000');
  for (const t of c.refusedAt) {
    const px = x(Math.min(seconds - 1, t / 1000)).toFixed(1);
    parts.push(`<line x1="${px}" x2="${px}" y1="${M.top + plotH}" y2="${M.top + plotH - 10}" stroke="${COLORS[3] ?? '#f00'}" stroke-width="1.2"/>`);
  }
  const legend: Array<[string, string, string]> = [
    ['real limit', '#333', ' stroke-dasharray="6 4"'],
    ['limit held', COLORS[1] ?? '#000', ''],
    ['admitted (200) per window', COLORS[0] ?? '#000', ''],
    [`429 (${c.refusedAt.length})`, COLORS[3] ?? '#f00', ''],
  ];
  legend.forEach(([label, color, extra], i) => {
    const ly = M.top + 14 + i * 18;
    parts.push(`<line x1="${W - M.right + 12}" x2="${W - M.right + 32}" y1="${ly - 4}" y2="${ly - 4}" stroke="${color}" stroke-width="3"${extra}/>`);
    parts.push(`<text x="${W - M.right + 38}" y="${ly}">${esc(label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
