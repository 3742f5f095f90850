import { createHash } from 'node:crypto';
import { GenerationFailedError, type QuotaflowClient } from '../adapters/queue/client.js';
import { UNSTREAMED_EVENT_IDS } from '../adapters/queue/client-stream.js';
import type { FleetIndex } from '../core/fleet-index.js';
import type { StreamEvent } from '../core/job.js';
import type { Tenant } from '../core/types.js';
import type { GenerationService } from './generation-service.js';

/** How long after a request arrives its job may still be enqueued: past it, the caller was answered 503. */
export const ACCEPT_WITHIN_MS = 3_000;
const FLEET_TTL_MS = 2_000;

/**
 * The GenerationService of `quotaflow api`, on the queue client: every call
 * of every dialect becomes a job. An Idempotency-Key becomes the job's
 * message id, so the same key gives the same job.
 */
export function createQueueGenerationService(deps: { client: QuotaflowClient; loadFleet: () => Promise<FleetIndex>; clock?: () => number }): GenerationService {
  const clock = deps.clock ?? Date.now;
  let fleet: { index: Promise<FleetIndex>; at: number } | undefined;
  const currentFleet = (): Promise<FleetIndex> => {
    if (!fleet || clock() - fleet.at > FLEET_TTL_MS) {
      const index = deps.loadFleet();
      fleet = { index, at: clock() };
      index.catch(() => (fleet = undefined));
    }
    return fleet.index;
  };

  return {
    submit(tenant, request, opts = {}) {
      const messageId = opts.idempotencyKey ? `idem:${createHash('sha256').update(opts.idempotencyKey).digest('hex').slice(0, 40)}` : undefined;
      return deps.client.enqueue({ ...request, tenantId: tenant.id, ...(messageId ? { messageId } : {}) }, { acceptBy: clock() + ACCEPT_WITHIN_MS });
    },
    wait: (jobId, opts) => deps.client.wait(jobId, opts),
    async *events(jobId, opts = {}): AsyncGenerator<StreamEvent> {
      try {
        yield* deps.client.streamJob(jobId, { ...(opts.lastEventId ? { after: opts.lastEventId } : {}), ...(opts.signal ? { signal: opts.signal } : {}) });
      } catch (err) {
        if (!(err instanceof GenerationFailedError)) throw err;
        // the event keeps its stream id: a reader that resumes after it is told the stream ended
        yield { type: 'error', id: err.eventId ?? UNSTREAMED_EVENT_IDS.end, reason: err.reason, message: err.message };
      }
    },
    cancelIfWaiting: (jobId) => deps.client.cancelIfWaiting(jobId).catch(() => false),
    async models(tenant: Tenant) {
      const index = await currentFleet();
      const t = index.tenant(tenant.id);
      return [...(t?.models ?? index.fleet.models)];
    },
  };
}
