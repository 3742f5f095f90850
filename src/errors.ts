/**
 * The few error classes of quotaflow. Each has a stable `code` that tools and
 * tests match on; messages never contain secrets.
 */
export class QuotaflowError extends Error {
  constructor(
    readonly code: string,
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

/** Something the caller referenced does not exist (tenant, key, job). */
export class NotFoundError extends QuotaflowError {
  constructor(message: string) {
    super('not_found', message);
  }
}

/** A dependency (Redis, Postgres, upstream) is unavailable or misbehaving. */
export class DependencyError extends QuotaflowError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('dependency_unavailable', message, options);
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
