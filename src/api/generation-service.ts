import type { GenerationResult, StreamEvent } from '../core/job.js';
import type { GenerationRequestInput } from '../core/request.js';
import type { Tenant } from '../core/types.js';

/**
 * What the HTTP routes need from the queue: every call becomes a queued job
 * (quotas, attempts, deadline), whatever the dialect it arrived in (the
 * producer API, the Gemini-native and the OpenAI-compatible endpoints).
 *
 * Errors: `ValidationError` (bad request), `TenantLimitError` (the tenant is
 * over a producer-side cap: 429 with Retry-After), `DependencyError` (Redis
 * unavailable or out of memory: 503), `GenerationFailedError` from `wait`
 * (the job failed; `reason` is machine-readable), `GenerationTimeoutError`
 * from `wait` (still running).
 */
export interface GenerationService {
  /**
   * Validates and enqueues a request for the tenant (its `tenantId` is set
   * here). With an idempotency key, the same key yields the same job.
   */
  submit(tenant: Tenant, request: Omit<GenerationRequestInput, 'tenantId'>, opts?: { idempotencyKey?: string }): Promise<{ jobId: string }>;
  /** Waits for the job's result, up to timeoutMs, or until signal aborts. */
  wait(jobId: string, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<GenerationResult>;
  /**
   * The job's events from the start, or after `lastEventId`; ends after
   * `done` or `error`. A reader that connects late gets what it missed.
   */
  events(jobId: string, opts?: { lastEventId?: string; signal?: AbortSignal }): AsyncIterable<StreamEvent>;
  /** Removes the job if no worker has started it (the caller went away); true when removed. */
  cancelIfWaiting(jobId: string): Promise<boolean>;
  /** The models a tenant's requests may name: its chain (or the fleet's), best first. */
  models(tenant: Tenant): Promise<string[]>;
}
