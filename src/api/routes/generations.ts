import type { Queue } from 'bullmq';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GenerationFailedError, GenerationTimeoutError, type QuotaflowClient } from '../../adapters/queue/client.js';
import type { GenerationJobData, GenerationResult } from '../../adapters/queue/job-contract.js';
import { parseGenerationRequest } from '../../core/request.js';
import type { Tenant } from '../../core/types.js';
import { ValidationError } from '../../errors.js';

export interface GenerationRouteDeps {
  client: QuotaflowClient;
  queue: Queue<GenerationJobData, GenerationResult>;
  /** most seconds `?wait=` may ask for */
  maxWaitSeconds: number;
  guard: (req: FastifyRequest, reply: FastifyReply) => Promise<void>;
}

function tenantOf(req: FastifyRequest): Tenant {
  // the guard ran before: a request without a tenant never reaches a handler
  if (!req.tenant) throw new ValidationError('no tenant on request');
  return req.tenant;
}

function waitSeconds(query: unknown, max: number): number {
  const raw = typeof query === 'object' && query !== null && 'wait' in query ? query.wait : undefined;
  if (raw === undefined) return 0;
  const n = Number(raw);
  if (typeof raw !== 'string' || !Number.isFinite(n) || n < 0 || n > max) throw new ValidationError(`wait must be a number of seconds from 0 to ${max}`);
  return n;
}

/**
 * The producer API: the same request as the Node client, for any language.
 * A tenant enqueues only for itself (tenantId omitted = its own) and reads
 * only its own jobs; another tenant's job id answers 404 like a missing one.
 */
export function generationRoutes(app: FastifyInstance, deps: GenerationRouteDeps): void {
  app.post('/v1/generations', { onRequest: deps.guard }, async (req, reply) => {
    const tenant = tenantOf(req);
    const wait = waitSeconds(req.query, deps.maxWaitSeconds);
    if (typeof req.body !== 'object' || req.body === null || Array.isArray(req.body)) throw new ValidationError('the body must be a JSON object (a generation request)');
    const body = { ...(req.body as Record<string, unknown>) };
    if (body.tenantId === undefined) body.tenantId = tenant.id;
    else if (body.tenantId !== tenant.id) {
      return reply.code(403).send({ error: { code: 'forbidden', message: `this token belongs to tenant "${tenant.id}": it cannot enqueue for "${String(body.tenantId)}"` } });
    }
    const request = parseGenerationRequest(body);
    const { jobId } = await deps.client.enqueue(request);
    if (wait === 0) return reply.code(202).send({ jobId, state: 'queued' });
    try {
      const result = await deps.client.wait(jobId, { timeoutMs: wait * 1000 });
      return reply.code(200).send({ jobId, state: 'completed', result });
    } catch (err) {
      if (err instanceof GenerationFailedError) return reply.code(200).send({ jobId, state: 'failed', reason: err.reason, message: err.message, attempts: err.attempts });
      if (err instanceof GenerationTimeoutError) return reply.code(202).send({ jobId, state: 'pending' });
      throw err;
    }
  });

  app.get<{ Params: { id: string } }>('/v1/generations/:id', { onRequest: deps.guard }, async (req, reply) => {
    const tenant = tenantOf(req);
    const job = await deps.queue.getJob(req.params.id);
    if (!job || job.data.request.tenantId !== tenant.id) {
      return reply.code(404).send({ error: { code: 'not_found', message: `no generation ${req.params.id}` } });
    }
    const status = await deps.client.status(req.params.id);
    if (!status) return reply.code(404).send({ error: { code: 'not_found', message: `no generation ${req.params.id}` } });
    return status;
  });
}
