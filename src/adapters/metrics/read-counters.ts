import type { RedisClient as Redis } from '../redis/connection.js';
import type { MetricFamily, Sample } from './exposition.js';
import { LATENCY_BUCKETS, metricsKey, OVERFLOW, splitField, type Family } from './metric-keys.js';

type Fields = Array<[string[], number]>;

async function readAll(redis: Redis, prefix: string): Promise<Record<Family, Fields>> {
  const families: Family[] = ['upstream', 'tokens', 'latency', 'switches', 'jobs'];
  const pipe = redis.pipeline();
  for (const f of families) pipe.hgetall(metricsKey(prefix, f));
  const res = (await pipe.exec()) ?? [];
  const out = {} as Record<Family, Fields>;
  families.forEach((f, i) => {
    const [err, raw] = res[i] ?? [null, {}];
    const hash = !err && raw && typeof raw === 'object' ? (raw as Record<string, string>) : {};
    out[f] = Object.entries(hash).map(([k, v]) => [splitField(k), Number(v)]);
  });
  return out;
}

function sumBy(fields: Fields, labelsOf: (l: string[]) => Record<string, string>): Sample[] {
  const out = new Map<string, Sample>();
  for (const [l, v] of fields) {
    const labels = labelsOf(l);
    const id = JSON.stringify(labels);
    const cur = out.get(id);
    if (cur) cur.value += v;
    else out.set(id, { labels, value: v });
  }
  return [...out.values()];
}

const at = (labels: string[], i: number): string => labels[i] ?? '';

function latencyFamily(fields: Fields): MetricFamily {
  const byModel = new Map<string, { buckets: number[]; sum: number; count: number }>();
  for (const [labels, v] of fields) {
    const model = at(labels, 0);
    const m = byModel.get(model) ?? { buckets: new Array<number>(LATENCY_BUCKETS.length + 1).fill(0), sum: 0, count: 0 };
    byModel.set(model, m);
    const kind = at(labels, 1);
    if (kind === 'sum') m.sum += v;
    else if (kind === 'count') m.count += v;
    else if (kind === 'bucket') {
      const i = Number(at(labels, 2));
      if (Number.isInteger(i) && i >= 0 && i < m.buckets.length) m.buckets[i] = (m.buckets[i] ?? 0) + v;
    }
  }
  const samples: Sample[] = [];
  for (const [model, m] of byModel) {
    let cumulative = 0;
    m.buckets.forEach((n, i) => {
      cumulative += n;
      const le = i < LATENCY_BUCKETS.length ? String(LATENCY_BUCKETS[i]) : '+Inf';
      samples.push({ suffix: '_bucket', labels: { model, le }, value: cumulative });
    });
    samples.push({ suffix: '_sum', labels: { model }, value: m.sum }, { suffix: '_count', labels: { model }, value: m.count });
  }
  return { name: 'quotaflow_upstream_latency_seconds', help: 'Latency of upstream Gemini calls, per model.', type: 'histogram', samples };
}

/** The tenant label of jobs whose tenant the fleet does not know (a typo, a removed tenant, an attacker's guess). */
export const UNKNOWN_TENANT = '_unknown';

export interface ReadCountersOptions {
  /** the fleet's tenants: any other tenant id is shown as `_unknown`, so label values stay bounded by the fleet */
  tenants?: ReadonlySet<string>;
}

/**
 * The counters every worker flushed to Redis (see redis-recorder.ts), as
 * Prometheus families: upstream calls by model/key/outcome, tokens,
 * latency histogram, model switches, finished jobs and central fallbacks.
 */
export async function readCounterFamilies(redis: Redis, prefix: string, opts: ReadCountersOptions = {}): Promise<MetricFamily[]> {
  const f = await readAll(redis, prefix);
  const known = opts.tenants;
  const tenantOf = (id: string): string => (known === undefined || known.has(id) || id === OVERFLOW ? id : UNKNOWN_TENANT);
  const jobs: Fields = f.jobs.map(([l, v]) => [[tenantOf(at(l, 0)), ...l.slice(1)], v]);
  const fallbacks = new Map<string, number>();
  for (const [l, v] of jobs) if (at(l, 1) === 'completed' && at(l, 3) === 'true') fallbacks.set(at(l, 0), (fallbacks.get(at(l, 0)) ?? 0) + v);
  return [
    {
      name: 'quotaflow_upstream_requests_total',
      help: 'Upstream Gemini calls by model, key, project, outcome class (success or failure class) and whether the key is central.',
      type: 'counter',
      samples: f.upstream.map(([l, v]) => ({ labels: { model: at(l, 0), key: at(l, 1), project: at(l, 2), outcome: at(l, 3), central: at(l, 4) }, value: v })),
    },
    {
      name: 'quotaflow_upstream_tokens_total',
      help: 'Tokens counted by upstream, by model, key and kind (prompt or candidates).',
      type: 'counter',
      samples: f.tokens.map(([l, v]) => ({ labels: { model: at(l, 0), key: at(l, 1), kind: at(l, 2) }, value: v })),
    },
    latencyFamily(f.latency),
    {
      name: 'quotaflow_model_switches_total',
      help: 'Times a job moved from one model to another between attempts.',
      type: 'counter',
      samples: f.switches.map(([l, v]) => ({ labels: { from: at(l, 0), to: at(l, 1) }, value: v })),
    },
    {
      name: 'quotaflow_jobs_total',
      help: 'Finished generation jobs by tenant, outcome and failure reason.',
      type: 'counter',
      // summed over `central`, which this family does not show (no duplicate series)
      samples: sumBy(jobs, (l) => ({ tenant: at(l, 0), outcome: at(l, 1), reason: at(l, 2) })),
    },
    {
      name: 'quotaflow_central_fallbacks_total',
      help: 'Completed jobs served by a central (operator) key, per tenant.',
      type: 'counter',
      samples: [...fallbacks].map(([tenant, value]) => ({ labels: { tenant }, value })),
    },
  ];
}
