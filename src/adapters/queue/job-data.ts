import { z } from 'zod';
import { MAX_DEADLINE_MS, parseGenerationRequest, type RequestCaps } from '../../core/request.js';
import { ValidationError } from '../../errors.js';
import type { GenerationJobData, JobState } from './job-contract.js';

/**
 * Job data is input like any other: a job may have been added by another
 * tool straight into the queue. Workers check it before trusting it.
 */
const attempt = z.object({
  at: z.number(),
  keyId: z.string(),
  projectId: z.string(),
  model: z.string(),
  central: z.boolean(),
  outcome: z.string(),
  status: z.number().nullable(),
  latencyMs: z.number(),
});
const stateSchema = z.object({
  attempts: z.array(attempt),
  tried: z.array(z.object({ keyId: z.string(), model: z.string(), until: z.number() })),
  switches: z.number().int().min(0),
  waits: z.number().int().min(0),
  waitReason: z.string().max(40).optional(),
});

/** How far from now a job's enqueue time may plausibly be: a longer deadline does not exist, a later one is forged. */
const ENQUEUED_WINDOW = { pastMs: MAX_DEADLINE_MS + 3_600_000, futureMs: 5 * 60_000 };
/** More attempts, tried pairs or switches than any budget allows: the state was not written by a worker. */
const STATE_BOUNDS = { attempts: 64, tried: 256, switches: 64 };

/**
 * Checks job data before a worker trusts it. Beyond the request's own rules:
 * an `enqueuedAt` far in the past or in the future, or a state larger than
 * any worker writes, is refused — job data can be edited (Bull Board, a
 * script) to stretch a deadline or to forge what a job tried.
 */
export function parseJobData(data: unknown, opts: { caps?: Partial<RequestCaps>; now?: number } = {}): GenerationJobData {
  if (typeof data !== 'object' || data === null) throw new ValidationError('job data is not an object');
  const d = data as Record<string, unknown>;
  const request = parseGenerationRequest(d.request, opts.caps);
  if (typeof d.enqueuedAt !== 'number' || !Number.isFinite(d.enqueuedAt)) throw new ValidationError('job data: enqueuedAt must be an epoch-ms number');
  const now = opts.now ?? Date.now();
  if (d.enqueuedAt < now - ENQUEUED_WINDOW.pastMs || d.enqueuedAt > now + ENQUEUED_WINDOW.futureMs) {
    throw new ValidationError('job data: enqueuedAt is not plausible (far in the past or in the future)');
  }
  let state: JobState | undefined;
  if (d.state !== undefined) {
    const s = stateSchema.safeParse(d.state);
    if (!s.success) throw new ValidationError('job data: state is malformed');
    const { attempts, tried, switches } = s.data;
    if (attempts.length > STATE_BOUNDS.attempts || tried.length > STATE_BOUNDS.tried || switches > STATE_BOUNDS.switches || attempts.some((a) => a.at > now + ENQUEUED_WINDOW.futureMs)) {
      throw new ValidationError('job data: state is not plausible (larger than any worker writes, or dated in the future)');
    }
    state = s.data as JobState;
  }
  return { request, enqueuedAt: d.enqueuedAt, ...(state ? { state } : {}) };
}
