import type { Worker } from 'bullmq';
import { isOutOfMemory } from '../redis/errors.js';
import type { Logger } from '../../logger.js';
import { errorMessage } from '../../errors.js';

/**
 * Redis out of memory (maxmemory reached, noeviction): every write fails.
 * A worker that kept fetching would spin on errors; instead it pauses and
 * tries again after a backoff that doubles while Redis stays full (1 s up to
 * 30 s), logging once per pause. Jobs it holds finish or are handed back by
 * their locks; nothing is lost.
 */
export function guardRedisMemory(worker: Worker, logger: Logger, name = 'worker'): void {
  let backoffMs = 0;
  let paused = false;
  worker.on('error', (err) => {
    if (!isOutOfMemory(err)) {
      logger.warn({ err: errorMessage(err) }, `${name} error`);
      return;
    }
    if (paused) return;
    paused = true;
    backoffMs = Math.min(30_000, backoffMs ? backoffMs * 2 : 1_000);
    logger.error({ backoffMs, worker: name }, 'Redis is out of memory: this worker stops taking jobs and tries again later');
    worker.pause(true).catch(() => undefined);
    setTimeout(() => {
      paused = false;
      void worker.resume();
    }, backoffMs).unref();
  });
  worker.on('completed', () => {
    backoffMs = 0;
  });
}
