import type { RedisClient as Redis } from '../redis/connection.js';
import type { JobMetrics } from '../../app/ports.js';
import type { Logger } from '../../logger.js';
import { bucketOf, field, metricsKey, OVERFLOW, type Family } from './metric-keys.js';

export interface RecorderOptions {
  /** how often the in-memory aggregate is written to Redis; default 1000 ms */
  flushMs?: number;
  /** most distinct (family, labels) this process ever writes; later label sets collapse into `_other`; default 20000 */
  maxFields?: number;
  logger?: Logger;
}

export type RedisMetricsRecorder = JobMetrics & { flush(): Promise<void>; stop(): Promise<void> };

/**
 * JobMetrics for worker processes: calls only add to an in-memory map (never
 * block, never throw); every flushMs the sums go to Redis hashes with
 * HINCRBY / HINCRBYFLOAT in one pipeline, so counters from every worker add
 * up and the API's /metrics can show the whole system. A failed flush keeps
 * the sums for the next one.
 */
export function createRedisMetricsRecorder(redis: Redis, prefix: string, opts: RecorderOptions = {}): RedisMetricsRecorder {
  const maxFields = opts.maxFields ?? 20_000;
  const known = new Set<string>();
  let pending = new Map<string, { family: Family; field: string; value: number; float: boolean }>();
  let flushing: Promise<void> | null = null;

  /** `wide` is the index of the label that may have many values (a key or tenant id); it collapses on overflow */
  const add = (family: Family, labels: Array<string | number | boolean>, value: number, wide: number | null, float = false): void => {
    let f = field(...labels);
    let id = `${family}\n${f}`;
    if (!known.has(id)) {
      if (known.size >= maxFields && wide !== null) {
        // keep the counts, lose the label: the field count in Redis stays bounded
        f = field(...labels.map((l, i) => (i === wide ? OVERFLOW : l)));
        id = `${family}\n${f}`;
      }
      if (known.size < maxFields) known.add(id);
    }
    const cur = pending.get(id);
    if (cur) cur.value += value;
    else pending.set(id, { family, field: f, value, float });
  };

  const flushNow = async (): Promise<void> => {
    if (pending.size === 0) return;
    const batch = pending;
    pending = new Map();
    const pipe = redis.pipeline();
    for (const e of batch.values()) {
      if (e.float) pipe.hincrbyfloat(metricsKey(prefix, e.family), e.field, e.value);
      else pipe.hincrby(metricsKey(prefix, e.family), e.field, Math.round(e.value));
    }
    try {
      await pipe.exec();
    } catch (err) {
      // put the batch back so nothing is lost while Redis is away
      for (const [id, e] of batch) {
        const cur = pending.get(id);
        if (cur) cur.value += e.value;
        else pending.set(id, e);
      }
      opts.logger?.warn({ err: err instanceof Error ? err.message : String(err) }, 'metrics flush failed; will retry');
    }
  };

  const flush = (): Promise<void> => {
    flushing ??= flushNow().finally(() => {
      flushing = null;
    });
    return flushing;
  };

  const timer = setInterval(() => void flush(), opts.flushMs ?? 1_000);
  timer.unref();

  return {
    upstream(e) {
      add('upstream', [e.model, e.keyId, e.projectId, e.outcome, e.central], 1, 1);
      if (e.promptTokens > 0) add('tokens', [e.model, e.keyId, 'prompt'], e.promptTokens, 1);
      if (e.candidatesTokens > 0) add('tokens', [e.model, e.keyId, 'candidates'], e.candidatesTokens, 1);
      const seconds = Math.max(0, e.latencyMs) / 1000;
      // models are few (the fleet's chain): latency and switches never overflow
      add('latency', [e.model, 'bucket', bucketOf(seconds)], 1, null);
      add('latency', [e.model, 'count'], 1, null);
      add('latency', [e.model, 'sum'], seconds, null, true);
    },
    switched(e) {
      add('switches', [e.from, e.to], 1, null);
    },
    finished(e) {
      add('jobs', [e.tenantId, e.outcome, e.reason ?? '', e.central === true], 1, 0);
    },
    flush,
    async stop() {
      clearInterval(timer);
      await flush();
      // a flush that failed put its sums back: one last try
      if (pending.size > 0) await flush();
    },
  };
}
