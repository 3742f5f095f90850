import type { Outcome } from '../core/outcome.js';
import type { GenerationRequest } from '../core/request.js';

/** Daily request ledger (RPD), shared by all workers and kept across restarts. */
export interface Ledger {
  /** Reserves one request for the day; null when the day's limit is reached. Never exceeds limit. */
  reserve(scope: { projectId: string; model: string; day: string; limit: number }): Promise<number | null>;
  /** Returns a reservation whose call was never made; never goes below zero. */
  refund(scope: { projectId: string; model: string; day: string }): Promise<void>;
}

/** Gemini client port (see adapters/gemini). */
export interface Upstream {
  generate(call: { keyId: string; model: string; request: GenerationRequest }): Promise<{ outcome: Outcome; latencyMs: number }>;
}

export interface UsageEvent {
  at: Date;
  jobId: string;
  tenantId: string;
  keyId: string;
  projectId: string;
  model: string;
  outcome: string;
  status: number | null;
  promptTokens: number;
  candidatesTokens: number;
  totalTokens: number;
  latencyMs: number;
  central: boolean;
}

/** Where usage events go; writes are batched, so record() never blocks a job. */
export interface UsageSink {
  record(event: UsageEvent): void;
  flush(): Promise<void>;
}

/** Durable records of what failures taught us (Postgres), announced to all workers. */
export interface FleetRecords {
  excludeScope(e: { projectId: string; model: string; reason: string; until: Date | null; detail: string }): Promise<void>;
  disableKey(keyId: string, reason: string): Promise<void>;
  /** true when the value changed */
  learnLimit(l: { projectId: string; model: string; dimension: 'rpm' | 'tpm' | 'rpd'; value: number }): Promise<boolean>;
}

/** Operator alerts (webhook); never throws, never carries a secret. */
export interface Alerts {
  send(event: { kind: 'key_disabled' | 'breaker_open' | 'no_capacity'; subject: string; detail: string }): void;
}

/**
 * What a worker reports for metrics. Implementations aggregate across
 * workers (the API's /metrics shows the whole system); calls never block
 * or throw.
 */
export interface JobMetrics {
  upstream(e: { model: string; keyId: string; projectId: string; outcome: string; latencyMs: number; promptTokens: number; candidatesTokens: number; central: boolean }): void;
  switched(e: { from: string; to: string }): void;
  finished(e: { tenantId: string; outcome: 'completed' | 'failed'; reason?: string; central?: boolean }): void;
}

export const NO_METRICS: JobMetrics = { upstream: () => undefined, switched: () => undefined, finished: () => undefined };
