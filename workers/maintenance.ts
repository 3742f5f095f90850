import { Queue, Worker, type Job } from 'bullmq';
import { guardRedisMemory } from '../src/adapters/queue/memory-guard.js';
import { createScrubber } from '../src/core/scrub.js';
import { logScrubber } from '../src/logger.js';
import { createWebhookAlerts } from '../src/adapters/alerts/webhook.js';
import { createGeminiPool } from '../src/adapters/gemini/index.js';
import { evaluateKeyPriorities } from '../src/app/dynamic-priority.js';
import { runHealthCheck } from '../src/app/health-check.js';
import { alertNoCapacity, expireExclusions, MAINTENANCE_DEFAULTS, MAINTENANCE_JOBS, MAINTENANCE_QUEUE, trimUsage, type MaintenanceJob } from '../src/app/maintenance.js';
import type { Alerts } from '../src/app/ports.js';
import { DependencyError, errorMessage } from '../src/errors.js';
import type { System } from '../src/system.js';

export interface MaintenanceOptions {
  healthCheckEveryMs?: number;
  expireExclusionsEveryMs?: number;
  capacityCheckEveryMs?: number;
  keyPriorityEveryMs?: number;
  retentionEveryMs?: number;
  discoverySyncEveryMs?: number;
  usageRetentionDays?: number;
  /** default: createWebhookAlerts(sys.config, sys.logger) */
  alerts?: Alerts;
}

export interface MaintenanceWorker {
  worker: Worker;
  queue: Queue;
  /** runs one maintenance job now, in this process (tests, `quotaflow maintenance --once`) */
  run(name: MaintenanceJob): Promise<unknown>;
  close(): Promise<void>;
}

/**
 * Wiring only: BullMQ job schedulers (one per job, shared by every process
 * that starts this, so each job runs once per interval fleet-wide) and a
 * worker dispatching to the use cases in src/app.
 */
export async function startMaintenanceWorker(sys: System, opts: MaintenanceOptions = {}): Promise<MaintenanceWorker> {
  const o = { ...MAINTENANCE_DEFAULTS, ...opts };
  const { config, logger } = sys;
  const alerts = opts.alerts ?? createWebhookAlerts(config, logger);
  let secrets = new Map<string, string>();
  const scrubber = createScrubber();
  const gemini = createGeminiPool({ baseUrl: config.geminiBaseUrl, timeoutMs: Math.min(config.geminiTimeoutMs, 30_000), secretOf: (id) => secrets.get(id), maxClients: 10_000 });

  const handlers: Record<MaintenanceJob, () => Promise<unknown>> = {
    'health-check': async () => {
      // fresh secrets each run: a key whose secret changed is probed with the new one
      secrets = await sys.fleetSource.loadSecrets();
      scrubber.set(secrets.values());
      logScrubber.set(secrets.values());
      return runHealthCheck({
        keys: () => sys.stores.fleet.keys(),
        fleet: () => sys.fleetSource.load(),
        // a probe's failure text becomes a disabled key's reason and an alert: never with a secret in it
        probe: async (c) => {
          const r = await gemini.probe(c);
          return r.outcome.kind === 'failure' ? { ...r, outcome: { ...r.outcome, message: scrubber.scrub(r.outcome.message) } } : r;
        },
        disable: (keyId, reason) => sys.records.disableKey(keyId, reason),
        enable: (keyId) => sys.stores.fleet.enableKey(keyId),
        announce: sys.announce,
        alerts,
        logger,
      });
    },
    'expire-exclusions': () => expireExclusions({ deleteExpired: (now) => sys.stores.exclusions.deleteExpired(now), announce: sys.announce, logger }, new Date()),
    'usage-retention': () => trimUsage({ deleteBefore: (before) => sys.stores.usage.deleteBefore(before), logger }, Date.now(), o.usageRetentionDays),
    'capacity-check': async () => {
      const snap = await sys.snapshot();
      return alertNoCapacity(snap.fleet, snap.scopes, alerts);
    },
    // discovered limits live in Redis; Postgres keeps them across a Redis restart
    'discovery-sync': () => sys.syncDiscovery(),
    'key-priority': () =>
      evaluateKeyPriorities({
        buckets: (since) => sys.stores.usage.keyOutcomeBuckets(since),
        demoted: () => sys.stores.demotions.load(),
        save: (ids) => sys.stores.demotions.save(ids),
        announce: sys.announce,
        clock: Date.now,
        logger,
      }),
  };
  const every: Record<MaintenanceJob, number> = {
    'discovery-sync': o.discoverySyncEveryMs,
    'health-check': o.healthCheckEveryMs,
    'expire-exclusions': o.expireExclusionsEveryMs,
    'usage-retention': o.retentionEveryMs,
    'capacity-check': o.capacityCheckEveryMs,
    'key-priority': o.keyPriorityEveryMs,
  };
  // one run of a job at a time in this process: a scheduled run and a manual one never overlap
  const running = new Map<MaintenanceJob, Promise<unknown>>();
  const run = (name: MaintenanceJob): Promise<unknown> => {
    const next = (running.get(name) ?? Promise.resolve()).catch(() => undefined).then(() => handlers[name]());
    running.set(name, next);
    return next.finally(() => {
      if (running.get(name) === next) running.delete(name);
    });
  };

  const connection = sys.connect({ kind: 'blocking' });
  const workerConnection = sys.connect({ kind: 'blocking' });
  const queue = new Queue(MAINTENANCE_QUEUE, { connection, prefix: sys.prefix });
  for (const name of MAINTENANCE_JOBS) {
    await queue.upsertJobScheduler(name, { every: every[name] }, { name, opts: { removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } } });
  }
  const worker = new Worker(
    MAINTENANCE_QUEUE,
    async (job: Job) => {
      const name = MAINTENANCE_JOBS.find((n) => n === job.name);
      if (!name) throw new Error(`no handler for maintenance job "${job.name}"`);
      return run(name);
    },
    { connection: workerConnection, prefix: sys.prefix, concurrency: 1 },
  );
  // Redis full: pause with a backoff like the generation worker, instead of logging an error per fetch
  guardRedisMemory(worker, logger, 'maintenance worker');
  worker.on('failed', (job, err) => logger.warn({ job: job?.name, err: errorMessage(err) }, 'maintenance job failed'));
  await worker.waitUntilReady().catch((err: unknown) => {
    throw new DependencyError(`cannot reach Redis at ${config.redis.display}: ${errorMessage(err)}`, { cause: err });
  });
  logger.info({ every }, 'maintenance worker started');

  return {
    worker,
    queue,
    run,
    async close() {
      await worker.close();
      await queue.close();
      for (const c of [connection, workerConnection]) await c.quit().catch(() => c.disconnect());
    },
  };
}
