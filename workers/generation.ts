import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import { createGeminiPool } from '../src/adapters/gemini/index.js';
import { GENERATION_QUEUE, encodeFailure, type GenerationJobData, type GenerationResult } from '../src/adapters/queue/job-contract.js';
import { parseJobData } from '../src/adapters/queue/job-data.js';
import { createJobLifecycle } from '../src/adapters/queue/job-lifecycle.js';
import { scrubOutcomes } from '../src/adapters/gemini/scrub-outcomes.js';
import { createScrubber } from '../src/core/scrub.js';
import { logScrubber } from '../src/logger.js';
import { createJobEventSink } from '../src/adapters/redis/job-events.js';
import { createConversationMemory } from '../src/adapters/redis/conversations.js';
import { guardRedisMemory } from '../src/adapters/queue/memory-guard.js';
import { startHeartbeat, workerId } from '../src/adapters/redis/heartbeat.js';
import { viaRedis } from '../src/adapters/redis/errors.js';
import { createBlamer } from '../src/app/blame.js';
import { createFleetCache } from '../src/app/fleet-cache.js';
import { createLeaser } from '../src/app/leaser.js';
import { processJob } from '../src/app/process-job.js';
import type { Alerts, JobEvents, JobMetrics, Upstream } from '../src/app/ports.js';
import { NO_METRICS } from '../src/app/ports.js';
import { createUsageBuffer } from '../src/app/usage-buffer.js';
import { DependencyError, ValidationError, errorMessage } from '../src/errors.js';
import type { System } from '../src/system.js';

export interface GenerationWorker {
  worker: Worker<GenerationJobData, GenerationResult>;
  /** stops taking jobs, lets running ones finish for up to graceMs, then hands the rest back */
  close(graceMs?: number): Promise<void>;
}

/** How long a job waits when Redis or Postgres fails mid-lease before trying again. */
const DEPENDENCY_RETRY_MS = 1_000;

/**
 * A job handed back at shutdown becomes ready this much later: at once, it
 * would wake this worker's own waiting fetch, which takes it straight back
 * and holds it until its lock expires; by then another worker (or this one,
 * restarted) takes it.
 */
const HAND_BACK_DELAY_MS = 1_000;

/** A job's events, dropped once this worker handed the job back (its next attempt writes its own). */
function withoutHandedBack(events: JobEvents, handedBack: ReadonlySet<string>): JobEvents {
  const unless = <A extends unknown[]>(write: (jobId: string, ...args: A) => Promise<void>) => (jobId: string, ...args: A): Promise<void> => (handedBack.has(jobId) ? Promise.resolve() : write(jobId, ...args));
  return { chunk: unless(events.chunk), reset: unless(events.reset), done: unless(events.done), error: unless(events.error), restart: unless(events.restart) };
}

/** Wiring and shutdown only: the logic lives in src/app/process-job.ts. */
export interface GenerationWorkerOptions {
  concurrency?: number;
  /** operator alerts (webhook); default: a warning in the log */
  alerts?: Alerts;
  metrics?: JobMetrics;
  /** wraps the Gemini client (tests inject faults; benchmarks count calls) */
  wrapUpstream?: (upstream: Upstream) => Upstream;
}

export async function startGenerationWorker(sys: System, opts: GenerationWorkerOptions = {}): Promise<GenerationWorker> {
  const { config, logger } = sys;
  const alerts: Alerts = opts.alerts ?? { send: (e) => logger.warn({ alert: e.kind, subject: e.subject }, e.detail) };
  const metrics = opts.metrics ?? NO_METRICS;
  await sys.restoreBlocks();
  await sys.restoreDiscovery();
  await sys.restoreTenantCounters();
  const scrubber = createScrubber();
  const fleet = await createFleetCache(sys.fleetSource, {
    logger,
    announce: sys.announce,
    // a secret an upstream or proxy echoes back never leaves this process: not in logs, outcomes, reasons or alerts
    onSecrets: (values) => {
      scrubber.set(values);
      logScrubber.set(values);
    },
  });
  if (fleet.current().fleet.keys.length === 0) {
    logger.warn('the stored fleet has no keys: jobs will fail with no_keys until a fleet is applied (`quotaflow apply -f fleet.json`)');
  }
  const lifecycle = createJobLifecycle(sys.redis, sys.keys);
  // jobs handed back at shutdown: whatever their still-running call writes is not theirs any more (another worker may run them)
  const handedBack = new Set<string>();
  const events = withoutHandedBack(createJobEventSink(sys.redis, sys.keys), handedBack);
  const conversations = createConversationMemory(sys.redis, sys.keys);
  const pool = createGeminiPool({ baseUrl: config.geminiBaseUrl, timeoutMs: config.geminiTimeoutMs, secretOf: fleet.secretOf });
  const scrubbed = scrubOutcomes(pool, scrubber);
  const gemini = opts.wrapUpstream ? opts.wrapUpstream(scrubbed) : scrubbed;
  const usage = createUsageBuffer((events) => sys.stores.usage.write(events), { logger });
  const leaser = createLeaser({ limiter: sys.limiter, ledger: sys.ledger, day: sys.day });
  const blame = createBlamer({
    limiter: sys.limiter,
    records: sys.records,
    alerts,
    day: sys.day,
    clock: Date.now,
    logger,
    // this worker sees its own finding at once; the others through the announcement
    announce: async () => {
      await sys.announce();
      await fleet.refresh(true);
    },
    breakerOpenMs: sys.breaker.openMs,
  });

  // jobs running in this process, so shutdown can hand back those that outlive the grace period
  const active = new Map<string, { job: Job<GenerationJobData, GenerationResult>; token: string | undefined }>();

  const processor = async (job: Job<GenerationJobData, GenerationResult>, token?: string): Promise<GenerationResult> => {
    const jobId = job.id ?? '';
    active.set(jobId, { job, token });
    try {
      return await processOne(job, token);
    } finally {
      active.delete(jobId);
    }
  };

  /** A streamed job's last event; readers also learn the end from the job itself, so a failure here is only logged. */
  const streamEnd = async (jobId: string, data: GenerationJobData, write: () => Promise<void>): Promise<void> => {
    if (data.request.stream) await write().catch((err: unknown) => logger.warn({ jobId, err: errorMessage(err) }, 'could not write the stream end'));
  };

  const processOne = async (job: Job<GenerationJobData, GenerationResult>, token?: string): Promise<GenerationResult> => {
    const jobId = job.id ?? '';
    const saveState = (state: NonNullable<GenerationJobData['state']>): Promise<void> => viaRedis('job state save', () => job.updateData({ ...data, state }));
    let data: GenerationJobData;
    try {
      data = parseJobData(job.data, { caps: config.requestCaps });
    } catch (err) {
      const why = err instanceof ValidationError ? err.message : errorMessage(err);
      logger.warn({ jobId }, `malformed job rejected: ${why.split('\n').join(' ')}`);
      throw new UnrecoverableError(encodeFailure('invalid_request', why));
    }
    // leaving the tenant's waiting count is bookkeeping for fair share: never a reason to fail the job
    if (!data.state) await lifecycle.started(data.request.tenantId, jobId).catch((err: unknown) => logger.warn({ jobId, err: errorMessage(err) }, 'could not mark the job started'));
    let decision;
    try {
      decision = await processJob(jobId, data, { fleet: fleet.current, leaser, upstream: gemini, usage, blame, saveState, clock: Date.now, random: Math.random, logger, metrics, alerts, events, conversations });
    } catch (err) {
      if (err instanceof DependencyError) {
        // Postgres or Redis trouble: the job waits and tries again instead of spending attempts
        logger.warn({ jobId, err: err.message }, 'a dependency failed during the job; it will retry');
        await job.moveToDelayed(Date.now() + DEPENDENCY_RETRY_MS, token);
        throw new DelayedError();
      }
      // anything else is a bug: fail the job at once instead of retrying it until its deadline
      logger.error({ jobId, err }, `job failed on an internal error: ${errorMessage(err)}`);
      metrics.finished({ tenantId: data.request.tenantId, outcome: 'failed', reason: 'internal' });
      alerts.send({ kind: 'internal_error', subject: 'generation worker', detail: `job ${jobId} failed on an internal error (see the worker log)` });
      const message = 'quotaflow failed on an internal error while processing this job (the operator has the details)';
      await streamEnd(jobId, data, () => events.error(jobId, 'internal', message));
      throw new UnrecoverableError(encodeFailure('internal', message));
    }
    switch (decision.kind) {
      case 'completed':
        metrics.finished({ tenantId: data.request.tenantId, outcome: 'completed', central: decision.result.central });
        await streamEnd(jobId, data, () => events.done(jobId, decision.result));
        return decision.result;
      case 'failed': {
        logger.info({ jobId, reason: decision.reason }, `job failed: ${decision.message}`);
        metrics.finished({ tenantId: data.request.tenantId, outcome: 'failed', reason: decision.reason });
        // a job that waited for capacity until its deadline is starved; one that only queued behind others is not
        const starved = decision.reason === 'no_keys' || (decision.reason === 'deadline' && !data.state?.attempts.length && (data.state?.waits ?? 0) > 0);
        if (starved) alerts.send({ kind: 'no_capacity', subject: data.request.tenantId, detail: decision.message });
        await streamEnd(jobId, data, () => events.error(jobId, decision.reason, decision.message));
        throw new UnrecoverableError(encodeFailure(decision.reason, decision.message));
      }
      case 'delayed':
        await job.moveToDelayed(decision.untilMs, token);
        throw new DelayedError();
    }
  };

  const worker = new Worker<GenerationJobData, GenerationResult>(GENERATION_QUEUE, processor, {
    connection: sys.connect({ kind: 'blocking' }),
    prefix: sys.prefix,
    concurrency: opts.concurrency ?? 16,
    maxStalledCount: 10,
  });
  guardRedisMemory(worker, logger);
  // an ended job keeps what its result needs and frees its tenant's caps (after BullMQ recorded the end)
  const ended = (job: Job<GenerationJobData, GenerationResult> | undefined): void => {
    const data = job?.data;
    if (!job?.id || typeof data?.request?.tenantId !== 'string') return;
    lifecycle.finished(job.id, data).catch((err: unknown) => logger.warn({ jobId: job.id, err: errorMessage(err) }, 'could not trim an ended job; the maintenance reconciliation will'));
  };
  worker.on('completed', ended);
  worker.on('failed', ended);
  await worker.waitUntilReady().catch((err: unknown) => {
    throw new DependencyError(`cannot reach Redis at ${config.redis.display}: ${errorMessage(err)}`, { cause: err });
  });
  const heartbeat = startHeartbeat(sys.redis, sys.keys, workerId(), { concurrency: opts.concurrency ?? 16 });
  logger.info({ concurrency: opts.concurrency ?? 16, prefix: sys.prefix }, 'generation worker started');

  return {
    worker,
    async close(graceMs = 30_000) {
      // stop taking jobs, give the running ones the grace period, then hand the rest back
      await worker.pause(true);
      const deadline = Date.now() + graceMs;
      while (active.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      if (active.size) {
        logger.warn({ graceMs, jobs: active.size }, 'jobs still running at shutdown: handing them back to the queue');
        for (const id of active.keys()) handedBack.add(id);
        await Promise.all(
          [...active.values()].map(({ job, token }) =>
            job.moveToDelayed(Date.now() + HAND_BACK_DELAY_MS, token).catch((err: unknown) => logger.warn({ jobId: job.id, err: errorMessage(err) }, 'could not hand a job back; it returns when its lock expires')),
          ),
        );
      }
      await worker.close(true);
      await heartbeat.stop();
      await fleet.stop();
      await usage.stop();
    },
  };
}
