import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { DependencyError, NotFoundError, QuotaflowError, TenantLimitError, UnknownTenantError, ValidationError, errorMessage, type ErrorCode } from '../errors.js';

/** Seconds a tenant the queue does not know yet is told to wait (a fleet change is being applied). */
const FLEET_CHANGE_RETRY_SEC = 2;

/** Status for a quotaflow error code; everything unknown is a 500. */
function statusOf(err: unknown): number {
  if (err instanceof ValidationError) return 400;
  if (err instanceof NotFoundError) return 404;
  if (err instanceof TenantLimitError) return 429;
  if (err instanceof QuotaflowError) {
    if (err.code === 'config_invalid') return 503;
    if (err.code === 'dependency_unavailable') return 503;
    if (err.code === 'secret_undecryptable') return 409;
    return 500;
  }
  const s = (err as Partial<FastifyError>).statusCode;
  return typeof s === 'number' && s >= 400 && s < 600 ? s : 500;
}

/**
 * One JSON error shape for every route: `{ error: { code, message, issues? } }`.
 * 500s say nothing about internals (messages could carry driver details);
 * the log has them.
 */
export function errorHandler(err: unknown, req: FastifyRequest, reply: FastifyReply): void {
  if (err instanceof UnknownTenantError && req.tenant?.id === err.tenantId) {
    // its token was valid, so the tenant exists: the queue's copy of the fleet is behind while a change is applied
    void reply.code(503).header('retry-after', String(FLEET_CHANGE_RETRY_SEC));
    void reply.send({ error: { code: 'dependency_unavailable', message: `tenant "${err.tenantId}" is not known to the queue yet (a fleet change is being applied); try again shortly` } });
    return;
  }
  const status = statusOf(err);
  // when to try again: a tenant over its caps soon, Redis or Postgres unavailable (or full) a little later
  if (err instanceof TenantLimitError) void reply.header('retry-after', String(Math.max(1, Math.ceil(err.retryAfterMs / 1000))));
  if (err instanceof DependencyError) void reply.header('retry-after', '5');
  if (status >= 500) {
    req.log.error({ err: errorMessage(err), url: req.routeOptions.url }, 'request failed');
    const message = status === 503 ? errorMessage(err) : 'internal error (see the server log)';
    void reply.code(status).send({ error: { code: err instanceof QuotaflowError ? err.code : 'internal', message } });
    return;
  }
  // Fastify's own 4xx (a body that is not JSON, too large, ...) are bad input like any other
  const code: ErrorCode = err instanceof QuotaflowError ? err.code : 'invalid_input';
  const issues = err instanceof ValidationError ? err.issues : undefined;
  void reply.code(status).send({ error: { code, message: errorMessage(err), ...(issues?.length ? { issues } : {}) } });
}
