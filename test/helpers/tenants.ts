import type { Redis } from 'ioredis';
import { GENERATION_QUEUE } from '../../src/adapters/queue/job-contract.js';
import { redisKeys } from '../../src/adapters/redis/keys.js';
import type { SimulatorConfig } from '../../src/simulator/index.js';
import { matchedConfigs, type KeyDef, type LimitTable } from './fleets.js';

/** A tenant of the fleet file with the settings that protect tenants from each other. */
export interface TenantDef {
  id: string;
  keyMode?: string;
  models?: string[];
  weight?: number;
  limits?: Record<string, number>;
  budget?: { monthly: number };
  token?: string;
}

/** The stand-in's config and a fleet file with the same limits, tenants carrying their weights, limits and budgets. */
export function tenantConfigs(opts: {
  models: string[];
  projects: Record<string, LimitTable>;
  tenants: TenantDef[];
  keys: KeyDef[];
  sim?: Record<string, unknown>;
  /** the fleet file's catalog section (prices) */
  catalog?: unknown;
}): { sim: SimulatorConfig; fleet: Record<string, unknown> } {
  const m = matchedConfigs({ models: opts.models, projects: opts.projects, tenants: opts.tenants.map((t) => ({ id: t.id })), keys: opts.keys, ...(opts.sim ? { sim: opts.sim } : {}) });
  const fleet = { ...(m.fleet as Record<string, unknown>), tenants: opts.tenants, ...(opts.catalog ? { catalog: opts.catalog } : {}) };
  return { sim: m.sim, fleet };
}

export interface JobTimes {
  id: string;
  /** when a worker took the job (its clock, epoch ms); null while it waits */
  processedOn: number | null;
  finishedOn: number | null;
  /** the BullMQ priority the producer gave it */
  priority: number;
}

/** Start, end and priority of jobs, read from their BullMQ hashes in one pipeline. */
export async function jobTimes(redis: Redis, prefix: string, ids: readonly string[]): Promise<JobTimes[]> {
  const keys = redisKeys(prefix);
  const pipe = redis.pipeline();
  for (const id of ids) pipe.hmget(keys.job(GENERATION_QUEUE, id), 'processedOn', 'finishedOn', 'priority');
  const replies = (await pipe.exec()) ?? [];
  const num = (v: string | null | undefined): number | null => (v === null || v === undefined ? null : Number(v));
  return ids.map((id, i) => {
    const [err, value] = replies[i] ?? [null, []];
    if (err) throw err;
    const [p, f, prio] = Array.isArray(value) ? (value as Array<string | null>) : [];
    return { id, processedOn: num(p), finishedOn: num(f), priority: num(prio) ?? 0 };
  });
}

/** Waits until `check` holds, polling; throws with `what` after timeoutMs. */
export async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Enqueues n jobs through `enqueue`, at most `batch` at once; returns the job ids in order. */
export async function enqueueMany(n: number, enqueue: (i: number) => Promise<{ jobId: string }>, batch = 200): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i += batch) {
    const got = await Promise.all(Array.from({ length: Math.min(batch, n - i) }, (_, j) => enqueue(i + j)));
    ids.push(...got.map((g) => g.jobId));
  }
  return ids;
}
