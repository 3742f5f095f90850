import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GenerationFailedError, GenerationTimeoutError, type QuotaflowClient } from '../../adapters/queue/client.js';
import { ownsJob } from '../../adapters/queue/job-ids.js';
import type { StreamEvent } from '../../core/job.js';
import type { Tenant } from '../../core/types.js';
import { ValidationError } from '../../errors.js';
import type { GenerationService } from '../generation-service.js';

export interface GenerationRouteDeps {
  service: GenerationService;
  client: QuotaflowClient;
  /** most seconds `?wait=` may ask for */
  maxWaitSeconds: number;
  guard: (req: FastifyRequest, reply: FastifyReply) => Promise<void>;
}

function tenantOf(req: FastifyRequest): Tenant {
  // the guard ran before: a request without a tenant never reaches a handler
  if (!req.tenant) throw new ValidationError('no tenant on request');
  return req.tenant;
}

function queryValue(query: unknown, name: string): unknown {
  return typeof query === 'object' && query !== null && name in query ? (query as Record<string, unknown>)[name] : undefined;
}

function waitSeconds(query: unknown, max: number): number {
  const raw = queryValue(query, 'wait');
  if (raw === undefined) return 0;
  const n = Number(raw);
  if (typeof raw !== 'string' || !Number.isFinite(n) || n < 0 || n > max) throw new ValidationError(`wait must be a number of seconds from 0 to ${max}`);
  return n;
}

/** One server-sent event: its id (to resume after), its type and its JSON data. */
function sse(e: StreamEvent): string {
  const { type, id, ...data } = e;
  const payload = type === 'done' ? e.result : data;
  return `id: ${id}\nevent: ${type}\ndata: ${JSON.stringify(payload)}\n\n`;
}

/** Streams a job's events as text/event-stream until done or error; a caller that leaves stops the reading. */
function streamEvents(req: FastifyRequest, reply: FastifyReply, events: (signal: AbortSignal) => AsyncIterable<StreamEvent>): FastifyReply {
  const abort = new AbortController();
  reply.raw.on('close', () => abort.abort());
  async function* body(): AsyncGenerator<string> {
    yield ': quotaflow generation events\n\n';
    for await (const e of events(abort.signal)) yield sse(e);
  }
  void reply.header('content-type', 'text/event-stream; charset=utf-8').header('cache-control', 'no-cache').header('x-accel-buffering', 'no');
  return reply.send(Readable.from(body()));
}

/** Removes the job when the caller goes away before any worker took it (nobody will read its answer). */
function cancelOnDisconnect(req: FastifyRequest, reply: FastifyReply, service: GenerationService, jobId: string): void {
  reply.raw.on('close', () => {
    if (!reply.raw.writableFinished) void service.cancelIfWaiting(jobId);
  });
}

/**
 * The producer API: the same request as the Node client, for any language.
 * A tenant enqueues only for itself (tenantId omitted = its own) and reads
 * only its own jobs; another tenant's job id answers 404 like a missing one,
 * known from the id without reading the job.
 */
export function generationRoutes(app: FastifyInstance, deps: GenerationRouteDeps): void {
  const notFound = (reply: FastifyReply, id: string): FastifyReply => reply.code(404).send({ error: { code: 'not_found', message: `no generation ${id}` } });

  app.post('/v1/generations', { onRequest: deps.guard }, async (req, reply) => {
    const tenant = tenantOf(req);
    const wait = waitSeconds(req.query, deps.maxWaitSeconds);
    const stream = ['1', 'true'].includes(String(queryValue(req.query, 'stream') ?? ''));
    if (typeof req.body !== 'object' || req.body === null || Array.isArray(req.body)) throw new ValidationError('the body must be a JSON object (a generation request)');
    const body = { ...(req.body as Record<string, unknown>) };
    if (body.tenantId !== undefined && body.tenantId !== tenant.id) {
      return reply.code(403).send({ error: { code: 'forbidden', message: `this token belongs to tenant "${tenant.id}": it cannot enqueue for "${String(body.tenantId)}"` } });
    }
    delete body.tenantId;
    const idempotencyKey = typeof req.headers['idempotency-key'] === 'string' ? req.headers['idempotency-key'] : undefined;
    // the body is validated by the producer boundary (every problem listed); here it is only passed on
    const request = { ...body, ...(stream ? { stream: true } : {}) } as Parameters<GenerationService['submit']>[1];
    const { jobId } = await deps.service.submit(tenant, request, idempotencyKey ? { idempotencyKey } : {});
    if (stream) {
      cancelOnDisconnect(req, reply, deps.service, jobId);
      void reply.header('x-quotaflow-job-id', jobId);
      return streamEvents(req, reply, (signal) => deps.service.events(jobId, { signal }));
    }
    if (wait === 0) return reply.code(202).send({ jobId, state: 'queued' });
    cancelOnDisconnect(req, reply, deps.service, jobId);
    try {
      const result = await deps.service.wait(jobId, { timeoutMs: wait * 1000 });
      return reply.code(200).send({ jobId, state: 'completed', result });
    } catch (err) {
      if (err instanceof GenerationFailedError) return reply.code(200).send({ jobId, state: 'failed', reason: err.reason, message: err.message, attempts: err.attempts });
      if (err instanceof GenerationTimeoutError) return reply.code(202).send({ jobId, state: 'pending' });
      throw err;
    }
  });

  app.get<{ Params: { id: string } }>('/v1/generations/:id', { onRequest: deps.guard }, async (req, reply) => {
    if (!ownsJob(tenantOf(req).id, req.params.id)) return notFound(reply, req.params.id);
    const status = await deps.client.status(req.params.id);
    return status ?? notFound(reply, req.params.id);
  });

  /** A job's events (streamed or not) from the start, or after `Last-Event-ID`. */
  app.get<{ Params: { id: string } }>('/v1/generations/:id/events', { onRequest: deps.guard }, async (req, reply) => {
    if (!ownsJob(tenantOf(req).id, req.params.id)) return notFound(reply, req.params.id);
    if (!(await deps.client.status(req.params.id))) return notFound(reply, req.params.id);
    const last = req.headers['last-event-id'];
    const after = typeof last === 'string' && /^\d+-\d+$/.test(last) ? last : undefined;
    return streamEvents(req, reply, (signal) => deps.service.events(req.params.id, { signal, ...(after ? { lastEventId: after } : {}) }));
  });
}
