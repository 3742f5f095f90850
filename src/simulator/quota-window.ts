/**
 * Quota state of one (project, model): RPM and TPM over a sliding window
 * (60 s by default: the strictest reading of Google's unpublished semantics)
 * and RPD per day. The clock and the day id are passed in, so tests drive time
 * by hand.
 *
 * Every admitted call is one entry (time, running token total) in a FIFO
 * queue. Eviction is amortised O(1), and the running totals make "when will
 * enough tokens have expired" a binary search, so even a rejected call costs
 * O(log n). The queue holds at most `rpm` entries (more only briefly after a
 * runtime limit cut), so memory per scope is bounded by the limit.
 */
import type { ModelLimits } from './config.js';
import type { QuotaDimension } from './error-bodies.js';

export const WINDOW_MS = 60_000;

export type QuotaVerdict =
  | { ok: true }
  | { ok: false; dimension: QuotaDimension; limit: number; retryAfterMs: number };

export class QuotaWindow {
  private at: number[] = [];
  /** cumulative[i]: tokens of every entry up to and including i, since the last compaction. */
  private cumulative: number[] = [];
  private head = 0;
  private total = 0;
  private evicted = 0;
  private dayId = '';
  private dayCount = 0;

  constructor(private readonly windowMs: number = WINDOW_MS) {}

  /** Requests currently inside the window. */
  requestsInWindow(now: number): number {
    this.evict(now);
    return this.at.length - this.head;
  }

  tokensInWindow(now: number): number {
    this.evict(now);
    return this.total - this.evicted;
  }

  requestsToday(dayId: string): number {
    return dayId === this.dayId ? this.dayCount : 0;
  }

  /** Would a call with `inputTokens` be admitted now? Per-day is reported first: it is the longer wait. */
  check(limits: ModelLimits, inputTokens: number, now: number, dayId: string): QuotaVerdict {
    this.evict(now);
    if (this.requestsToday(dayId) + 1 > limits.rpd) {
      return { ok: false, dimension: 'rpd', limit: limits.rpd, retryAfterMs: 0 };
    }
    const count = this.at.length - this.head;
    if (count + 1 > limits.rpm) {
      // Room for one more once the oldest (count - rpm + 1) entries expire.
      const freeing = this.at[this.head + count - limits.rpm] ?? now;
      return { ok: false, dimension: 'rpm', limit: limits.rpm, retryAfterMs: freeing + this.windowMs - now };
    }
    if (this.total - this.evicted + inputTokens > limits.tpm) {
      return { ok: false, dimension: 'tpm', limit: limits.tpm, retryAfterMs: this.tokenRetryMs(limits.tpm, inputTokens, now) };
    }
    return { ok: true };
  }

  /** Records an admitted call. */
  admit(inputTokens: number, now: number, dayId: string): void {
    this.total += inputTokens;
    this.at.push(now);
    this.cumulative.push(this.total);
    if (dayId !== this.dayId) {
      this.dayId = dayId;
      this.dayCount = 0;
    }
    this.dayCount += 1;
  }

  private tokenRetryMs(tpm: number, inputTokens: number, now: number): number {
    // A prompt larger than the whole TPM never fits; Google still answers a per-minute 429.
    if (inputTokens > tpm) return this.windowMs;
    // The first entry whose expiry leaves room: total - cumulative[i] + inputTokens <= tpm.
    const target = this.total + inputTokens - tpm;
    let lo = this.head;
    let hi = this.at.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.cumulative[mid] ?? 0) >= target) hi = mid;
      else lo = mid + 1;
    }
    return (this.at[lo] ?? now) + this.windowMs - now;
  }

  private evict(now: number): void {
    const cutoff = now - this.windowMs;
    while (this.head < this.at.length && (this.at[this.head] ?? now) <= cutoff) {
      this.evicted = this.cumulative[this.head] ?? this.evicted;
      this.head += 1;
    }
    // Compact once the dead prefix dominates, keeping pushes and evictions amortised O(1).
    if (this.head > 64 && this.head * 2 > this.at.length) {
      const base = this.evicted;
      this.at = this.at.slice(this.head);
      this.cumulative = this.cumulative.slice(this.head).map((c) => c - base);
      this.total -= base;
      this.evicted = 0;
      this.head = 0;
    }
  }
}

/** Seconds for RetryInfo: rounded up, at least 1. */
export function retrySeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
