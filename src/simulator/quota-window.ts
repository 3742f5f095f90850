/**
 * Quota state of one (project, model): RPM and TPM over a sliding 60 s window
 * (the strictest reading of Google's unpublished semantics) and RPD per day.
 * The clock and the day id are passed in, so tests drive time by hand.
 *
 * Every admitted call is one entry (time, input tokens) in a FIFO queue;
 * eviction is amortised O(1) and the queue never holds more than `rpm`
 * entries, so memory per scope is bounded by the limit.
 */
import type { ModelLimits } from './config.js';
import type { QuotaDimension } from './error-bodies.js';

export const WINDOW_MS = 60_000;

export type QuotaVerdict =
  | { ok: true }
  | { ok: false; dimension: QuotaDimension; limit: number; retryAfterMs: number };

export class QuotaWindow {
  private at: number[] = [];
  private tokens: number[] = [];
  private head = 0;
  private tokenSum = 0;
  private dayId = '';
  private dayCount = 0;

  /** Requests currently inside the 60 s window. */
  requestsInWindow(now: number): number {
    this.evict(now);
    return this.at.length - this.head;
  }

  tokensInWindow(now: number): number {
    this.evict(now);
    return this.tokenSum;
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
      return { ok: false, dimension: 'rpm', limit: limits.rpm, retryAfterMs: freeing + WINDOW_MS - now };
    }
    if (this.tokenSum + inputTokens > limits.tpm) {
      return { ok: false, dimension: 'tpm', limit: limits.tpm, retryAfterMs: this.tokenRetryMs(limits.tpm, inputTokens, now) };
    }
    return { ok: true };
  }

  /** Records an admitted call. */
  admit(inputTokens: number, now: number, dayId: string): void {
    this.at.push(now);
    this.tokens.push(inputTokens);
    this.tokenSum += inputTokens;
    if (dayId !== this.dayId) {
      this.dayId = dayId;
      this.dayCount = 0;
    }
    this.dayCount += 1;
  }

  private tokenRetryMs(tpm: number, inputTokens: number, now: number): number {
    // A prompt larger than the whole TPM never fits; Google still answers a per-minute 429.
    if (inputTokens > tpm) return WINDOW_MS;
    let sum = this.tokenSum;
    for (let i = this.head; i < this.at.length; i++) {
      sum -= this.tokens[i] ?? 0;
      if (sum + inputTokens <= tpm) return (this.at[i] ?? now) + WINDOW_MS - now;
    }
    return WINDOW_MS;
  }

  private evict(now: number): void {
    const cutoff = now - WINDOW_MS;
    while (this.head < this.at.length && (this.at[this.head] ?? now) <= cutoff) {
      this.tokenSum -= this.tokens[this.head] ?? 0;
      this.head += 1;
    }
    // Compact once the dead prefix dominates, keeping pushes and evictions amortised O(1).
    if (this.head > 64 && this.head * 2 > this.at.length) {
      this.at = this.at.slice(this.head);
      this.tokens = this.tokens.slice(this.head);
      this.head = 0;
    }
  }
}

/** Seconds for RetryInfo: rounded up, at least 1. */
export function retrySeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
