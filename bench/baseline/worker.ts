/**
 * The baseline as a BullMQ worker on the same queue contract as quotaflow's:
 * it takes the same jobs, calls the same stand-in through the same Gemini
 * adapter, and on any failure throws so BullMQ retries the job with the
 * options the client enqueued it with (3 attempts, fixed 1 s backoff), where
 * the same choice logic runs again.
 */
import { Worker, type Job } from 'bullmq';
import { createGeminiPool } from '../../src/adapters/gemini/index.js';
import { GENERATION_QUEUE, type GenerationJobData, type GenerationResult } from '../../src/adapters/queue/job-contract.js';
import { parseJobData } from '../../src/adapters/queue/job-data.js';
import { connectRedis } from '../../src/adapters/redis/connection.js';
import { secretOf, type Scenario } from '../scenario.js';
import { createBaselinePolicy } from './policy.js';

export interface BaselineWorker {
  worker: Worker<GenerationJobData, GenerationResult>;
  close(): Promise<void>;
}

export async function startBaselineWorker(opts: {
  scenario: Scenario;
  redisUrl: string;
  prefix: string;
  geminiBaseUrl: string;
  concurrency: number;
}): Promise<BaselineWorker> {
  const policy = createBaselinePolicy(opts.scenario);
  const gemini = createGeminiPool({ baseUrl: opts.geminiBaseUrl, timeoutMs: 60_000, secretOf });

  const processor = async (job: Job<GenerationJobData, GenerationResult>): Promise<GenerationResult> => {
    const data = parseJobData(job.data);
    const req = data.request;
    const now = Date.now();
    const choice = policy.choose(req.tenantId, now);
    if (!choice) throw new Error(`no key for tenant ${req.tenantId}`);
    policy.count(choice.model, now);
    const { outcome } = await gemini.generate({ keyId: choice.keyId, model: choice.model, request: req });
    if (outcome.kind !== 'success') throw new Error(`${outcome.failure}: ${outcome.message}`);
    return {
      jobId: job.id ?? '',
      text: outcome.text,
      parts: outcome.parts,
      safetyRatings: outcome.safetyRatings,
      modelVersion: outcome.modelVersion,
      responseId: outcome.responseId,
      model: choice.model,
      keyId: choice.keyId,
      project: choice.projectId,
      central: choice.central,
      usage: outcome.usage,
      finishReason: outcome.finishReason,
      attempts: [],
    };
  };

  const connection = connectRedis(opts.redisUrl);
  const worker = new Worker<GenerationJobData, GenerationResult>(GENERATION_QUEUE, processor, {
    connection,
    prefix: opts.prefix,
    concurrency: opts.concurrency,
  });
  worker.on('error', () => undefined);
  await worker.waitUntilReady();
  return {
    worker,
    async close() {
      await worker.close(true);
      await connection.quit().catch(() => connection.disconnect());
    },
  };
}
