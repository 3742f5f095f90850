/**
 * The workload side of a run: enqueue the scenario's messages on its arrival
 * pattern through the real client, then read every job's final state back.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { QuotaflowClient } from '../../src/adapters/queue/client.js';
import { GENERATION_QUEUE, decodeFailure, type GenerationJobData, type GenerationResult } from '../../src/adapters/queue/job-contract.js';
import { allTenants, type Scenario } from '../scenario.js';
import { createRandom } from '../../src/simulator/prng.js';

export interface JobRecord {
  id: string;
  tenantId: string;
  state: 'completed' | 'failed' | 'unfinished';
  enqueuedAt: number;
  finishedAt: number | null;
  model: string | null;
  keyId: string | null;
  reason: string | null;
}

/** Offsets (ms from start) at which each message is sent. */
export function arrivalOffsets(s: Scenario): number[] {
  const n = s.workload.messages;
  const a = s.workload.arrival;
  switch (a.kind) {
    case 'burst':
      return Array.from({ length: n }, () => 0);
    case 'uniform':
      return Array.from({ length: n }, (_, i) => Math.floor((i * a.durationMs) / n));
    case 'poisson': {
      const random = createRandom(s.standIn.seed);
      let t = 0;
      return Array.from({ length: n }, () => {
        t += (-Math.log(1 - random()) / a.ratePerSec) * 1000;
        return Math.floor(t);
      });
    }
  }
}

export function promptFor(i: number, tenantId: string, chars: number): string {
  const head = `Message ${i} from ${tenantId}: please answer briefly. `;
  return (head + 'lorem ipsum dolor sit amet '.repeat(Math.ceil(chars / 27))).slice(0, Math.max(head.length, chars));
}

/** Sends every message at its offset; resolves when the last one is enqueued. */
export async function enqueueWorkload(client: QuotaflowClient, s: Scenario, runId: string, onEnqueued: () => void): Promise<string[]> {
  const tenants = s.workload.tenants ?? allTenants(s).map((t) => t.id);
  const offsets = arrivalOffsets(s);
  const start = Date.now();
  const ids: string[] = [];
  const pending: Array<Promise<void>> = [];
  for (let i = 0; i < offsets.length; i++) {
    const wait = start + (offsets[i] ?? 0) - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const tenantId = tenants[i % tenants.length] ?? 'unknown';
    pending.push(
      client
        .enqueue({ tenantId, messageId: `${runId}-${i}`, contents: promptFor(i, tenantId, s.workload.promptChars), deadlineMs: s.workload.deadlineMs })
        .then(({ jobId }) => {
          ids.push(jobId);
          onEnqueued();
        }),
    );
    if (pending.length >= 64) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  return ids;
}

export async function jobCounts(connection: Redis, prefix: string): Promise<{ completed: number; failed: number }> {
  const q = new Queue(GENERATION_QUEUE, { connection, prefix });
  const c = await q.getJobCounts('completed', 'failed');
  await q.close();
  return { completed: c.completed ?? 0, failed: c.failed ?? 0 };
}

/** Every enqueued job's state right now (unfinished = lost if the run is over). */
export async function collectJobs(connection: Redis, prefix: string, ids: readonly string[]): Promise<JobRecord[]> {
  const q = new Queue<GenerationJobData, GenerationResult>(GENERATION_QUEUE, { connection, prefix });
  const out: JobRecord[] = [];
  for (let i = 0; i < ids.length; i += 200) {
    const jobs = await Promise.all(ids.slice(i, i + 200).map(async (id) => {
      const job = await q.getJob(id);
      return job ? { job, st: await job.getState() } : undefined;
    }));
    for (const [j, found] of jobs.entries()) {
      const id = ids[i + j] ?? '';
      if (!found) {
        out.push({ id, tenantId: '?', state: 'unfinished', enqueuedAt: 0, finishedAt: null, model: null, keyId: null, reason: 'job vanished' });
        continue;
      }
      const { job, st } = found;
      const state = st === 'completed' ? 'completed' : st === 'failed' ? 'failed' : 'unfinished';
      const failed = state === 'failed';
      out.push({
        id,
        tenantId: job.data.request.tenantId,
        state,
        enqueuedAt: job.timestamp,
        finishedAt: job.finishedOn ?? null,
        model: state === 'completed' ? job.returnvalue.model : null,
        keyId: state === 'completed' ? job.returnvalue.keyId : null,
        reason: failed ? decodeFailure(job.failedReason).reason : null,
      });
    }
  }
  await q.close();
  return out;
}
