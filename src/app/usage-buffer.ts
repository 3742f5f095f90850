import type { Logger } from '../logger.js';
import type { UsageEvent, UsageSink } from './ports.js';

/**
 * Batches usage events into one multi-row insert per interval. Bounded: past
 * `maxBuffered` the oldest events are dropped (and counted) rather than
 * letting a Postgres outage grow memory without limit.
 */
export function createUsageBuffer(
  write: (events: UsageEvent[]) => Promise<void>,
  opts: { flushMs?: number; maxBatch?: number; maxBuffered?: number; logger: Logger },
): UsageSink & { stop(): Promise<void>; dropped(): number } {
  let buf: UsageEvent[] = [];
  let dropped = 0;
  let flushing: Promise<void> | null = null;
  const maxBuffered = opts.maxBuffered ?? 50_000;

  const flush = async (): Promise<void> => {
    if (flushing) await flushing;
    if (!buf.length) return;
    const batch = buf.slice(0, opts.maxBatch ?? 500);
    flushing = write(batch)
      .then(() => {
        buf = buf.slice(batch.length);
      })
      .catch((err: unknown) => opts.logger.warn({ err, pending: buf.length }, 'usage write failed; will retry'))
      .finally(() => {
        flushing = null;
      });
    await flushing;
  };

  const timer = setInterval(() => void flush(), opts.flushMs ?? 1_000);
  timer.unref();

  return {
    record(event) {
      buf.push(event);
      if (buf.length > maxBuffered) {
        buf.shift();
        dropped++;
      }
    },
    async flush() {
      while (buf.length) {
        const before = buf.length;
        await flush();
        if (buf.length >= before) return;
      }
    },
    async stop() {
      clearInterval(timer);
      await this.flush();
    },
    dropped: () => dropped,
  };
}
