import { z } from 'zod';
import { parseGenerationRequest } from '../../core/request.js';
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

export function parseJobData(data: unknown): GenerationJobData {
  if (typeof data !== 'object' || data === null) throw new ValidationError('job data is not an object');
  const d = data as Record<string, unknown>;
  const request = parseGenerationRequest(d.request);
  if (typeof d.enqueuedAt !== 'number' || !Number.isFinite(d.enqueuedAt)) throw new ValidationError('job data: enqueuedAt must be an epoch-ms number');
  let state: JobState | undefined;
  if (d.state !== undefined) {
    const s = stateSchema.safeParse(d.state);
    if (!s.success) throw new ValidationError('job data: state is malformed');
    state = s.data as JobState;
  }
  return { request, enqueuedAt: d.enqueuedAt, ...(state ? { state } : {}) };
}
