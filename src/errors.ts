import { FAILURE_REASONS, type FailureReason } from './core/types.js';

/**
 * The few error classes of quotaflow. Each carries a stable `code` from one
 * union that tools, the HTTP layer and tests match on; messages never contain
 * secrets. Errors steer control flow only at the boundaries (the worker, the
 * API, the CLI); inside, outcomes are data.
 */
export const ERROR_CODES = [
  /** input rejected at a boundary (request, fleet file, flag, job data) */
  'invalid_input',
  /** the environment's configuration is invalid or incomplete */
  'config_invalid',
  'not_found',
  /** Redis or Postgres failed or did not answer: worth retrying later */
  'dependency_unavailable',
  /** a stored secret does not decrypt under the configured QUOTAFLOW_SECRET */
  'secret_undecryptable',
  /** a waiter gave up; the job itself goes on */
  'wait_timeout',
  /** a tenant is over one of its producer-side caps (outstanding jobs, bytes) */
  'tenant_over_limit',
  /** a bug: an exception nobody anticipated */
  'internal',
  /** HTTP: no credentials, wrong credentials, the admin surface switched off */
  'unauthorized',
  'forbidden',
  'admin_disabled',
  /** HTTP: too many failed authentication attempts from one address (or on the admin surface): wait Retry-After */
  'too_many_attempts',
  ...FAILURE_REASONS,
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export class QuotaflowError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Input rejected at a boundary (request, fleet file, CLI flag). */
export class ValidationError extends QuotaflowError {
  constructor(
    message: string,
    readonly issues: readonly string[] = [],
  ) {
    super('invalid_input', issues.length ? `${message}:\n${issues.map((i) => `  - ${i}`).join('\n')}` : message);
  }
}

/** A producer named a tenant the fleet does not have (known to producers once the fleet is published). */
export class UnknownTenantError extends ValidationError {
  constructor(readonly tenantId: string) {
    super(`unknown tenant "${tenantId}": the fleet has no such tenant`);
  }
}

/** The environment's configuration is invalid (a variable malformed, or one a command needs is missing). */
export class ConfigError extends QuotaflowError {
  constructor(message: string) {
    super('config_invalid', message);
  }
}

/** Something the caller referenced does not exist (tenant, key, job). */
export class NotFoundError extends QuotaflowError {
  constructor(message: string) {
    super('not_found', message);
  }
}

/**
 * Redis or Postgres is unavailable or misbehaving. Adapters wrap driver
 * errors into this once; the worker retries only these and fails every other
 * exception at once as `internal`.
 */
export class DependencyError extends QuotaflowError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('dependency_unavailable', message, options);
  }
}

/** A stored secret does not decrypt (wrong QUOTAFLOW_SECRET, or tampered data). */
export class SecretError extends QuotaflowError {
  constructor(message: string) {
    super('secret_undecryptable', message);
  }
}

/** A tenant is over a producer-side cap; `retryAfterMs` says when to try again. */
export class TenantLimitError extends QuotaflowError {
  constructor(
    message: string,
    readonly retryAfterMs: number,
    readonly limit: 'jobs' | 'bytes' | 'memory',
  ) {
    super('tenant_over_limit', message);
  }
}

export function isFailureReason(code: string): code is FailureReason {
  return (FAILURE_REASONS as readonly string[]).includes(code);
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
