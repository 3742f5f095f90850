import { Worker, type Job } from 'bullmq';
import { TolerantJob } from './job-read.js';

/**
 * A BullMQ worker that takes jobs whose stored data is not JSON. BullMQ
 * parses a job's data as it takes it; text that is not JSON throws there,
 * before the processor runs, so the job stays active, stalls, is taken again
 * and again, and the parse error (which quotes the data) is logged each
 * time. This worker hands such a job to the processor with `data: null`,
 * which the job-data check refuses: the job fails once, as invalid_request.
 */
export class TolerantWorker<T = unknown, R = unknown, N extends string = string> extends Worker<T, R, N> {
  protected override get Job(): typeof Job {
    return TolerantJob;
  }
}
