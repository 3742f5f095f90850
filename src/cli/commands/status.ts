import { queueReport, type QueueReport } from '../../adapters/queue/queue-report.js';
import { liveWorkers } from '../../adapters/redis/heartbeat.js';
import type { DimensionUse, QuotaSnapshot, ScopeStatus } from '../../app/snapshot.js';
import { tenantStatusJson, type TenantStatus } from '../../app/usage.js';
import { isGuess, UNLIMITED_RPD } from '../../core/catalog.js';
import { formatUsd } from '../../core/money.js';
import { DIMENSIONS, type Tenant } from '../../core/types.js';
import { defineCommand } from '../args.js';
import { bootstrap } from '../bootstrap.js';

type Workers = Awaited<ReturnType<typeof liveWorkers>>;

/** Per tenant: weight, each limit with what is used of it today, budget and what was spent this month. */
function tenantLines(tenants: readonly Tenant[], statuses: readonly TenantStatus[], models: readonly string[]): string[] {
  const by = new Map(statuses.map((s) => [s.tenantId, s]));
  return tenants.flatMap((t) => {
    const s = by.get(t.id);
    const head = `  ${t.id.padEnd(20)} ${t.keyMode.padEnd(17)} ${(t.models ?? models).join(' > ')}`;
    if (!s) return [head];
    const limits = s.limits.length ? s.limits.map((l) => `${l.limit} ${l.used}/${l.value}`).join(', ') : 'no limits';
    const budget = s.budget ? `budget ${s.budget.spentUsd}/${s.budget.monthlyUsd} USD spent this month (${s.budget.spentPct}%)` : 'no budget';
    return [head, `      weight ${s.weight}; ${limits}; ${budget}; today ${s.today.total.requests} requests, ${formatUsd(s.today.total.costPico)} USD; this month ${formatUsd(s.thisMonth.total.costPico)} USD`];
  });
}

export const status = defineCommand({
  name: 'status',
  summary: 'show workers, the queue (and why jobs wait), tenants, keys, breakers, and per (project, model) quota use and limits with where each came from',
  flags: {
    json: { type: 'boolean', description: 'print one JSON object instead of tables' },
  },
  details: 'Answers within about 5 s with an error naming Redis or Postgres when one of them does not answer.',
  async run(f) {
    const { sys } = await bootstrap({ name: 'status', oneOff: true });
    try {
      const [snapshot, workers, queue] = await Promise.all([sys.snapshot(), liveWorkers(sys.redis, sys.keys), queueReport(sys.redis, sys.prefix)]);
      const { fleet, day, scopes, modelBlocks } = snapshot;
      const f2 = fleet.fleet;
      const hints = hintsFor(snapshot, workers, queue);
      const usage = await sys.usage.tenants(f2.tenants);
      if (f.json) {
        console.log(JSON.stringify({ version: f2.version, day, models: f2.models, tenants: f2.tenants, tenantUsage: usage.map(tenantStatusJson), projects: f2.projects, keys: f2.keys, scopes, modelBlocks, workers, queue, hints }));
        return 0;
      }
      console.log(`fleet version ${f2.version}; day ${day}; default chain: ${f2.models.join(' > ') || '(none)'}`);
      for (const h of hints) console.log(`hint: ${h}`);
      printWorkersAndQueue(workers, queue);
      console.log(`\ntenants (${f2.tenants.length})`);
      for (const line of tenantLines(f2.tenants, usage, f2.models)) console.log(line);
      console.log(`\nkeys (${f2.keys.length})`);
      for (const k of f2.keys) {
        const state = k.enabled ? 'enabled' : `DISABLED (${k.disabledReason ?? 'no reason'})`;
        console.log(`  ${k.id.padEnd(20)} ${(k.tenantId ?? 'central').padEnd(14)} ${k.projectId.padEnd(18)} p${k.priority}  ${state}`);
      }
      printBreakers(scopes, modelBlocks);
      printScopes(scopes);
      return 0;
    } finally {
      await sys.close();
    }
  },
});

/** What an operator probably has to do next. */
function hintsFor(s: QuotaSnapshot, workers: Workers, queue: QueueReport): string[] {
  const hints: string[] = [];
  if (s.fleet.fleet.keys.length === 0) hints.push('the fleet has no keys: apply one with `quotaflow apply -f fleet.json` (README "Fleet file")');
  if (workers.length === 0) hints.push('no worker is running: start one with `quotaflow worker` (queued jobs wait until then)');
  if (queue.counts.failed > 0) hints.push(`${queue.counts.failed} failed job(s) are kept: \`quotaflow enqueue --json\` and GET /v1/generations/:id show their reasons`);
  if (s.fleet.catalogProblem) hints.push(`the catalog layers do not combine (${s.fleet.catalogProblem}); the package catalog applies`);
  const guessed = s.scopes.filter((x) => DIMENSIONS.some((d) => isGuess(x[d].source)));
  if (guessed.length) hints.push(`${guessed.length} (project, model) scope(s) have a limit nobody configured (marked "guess"): set it in the fleet or let quotaflow discover it`);
  return hints;
}

function printWorkersAndQueue(workers: Workers, queue: QueueReport): void {
  const slots = workers.reduce((n, w) => n + w.concurrency, 0);
  console.log(`\nworkers: ${workers.length} alive (${slots} slots)${workers.length ? `: ${workers.map((w) => w.id).join(', ')}` : ''}`);
  const c = queue.counts;
  console.log(`queue: ${c.waiting + c.prioritized} waiting, ${c.active} running, ${c.delayed} delayed, ${c.completed} completed, ${c.failed} failed (kept)`);
  const why = Object.entries(queue.delayedBy).sort((a, b) => b[1] - a[1]);
  if (why.length) console.log(`  delayed because: ${why.map(([k, n]) => `${k} ${n}`).join(', ')}${queue.sampled < c.delayed ? ` (of ${queue.sampled} read)` : ''}`);
}

function printBreakers(scopes: readonly ScopeStatus[], modelBlocks: QuotaSnapshot['modelBlocks']): void {
  const open = scopes.filter((s) => s.breaker.state !== 'closed');
  if (!open.length && !modelBlocks.length) return;
  console.log('\nbreakers');
  for (const s of open) console.log(`  ${`${s.projectId} ${s.model}`.padEnd(40)} ${s.breaker.state}${s.breaker.openMs !== null ? ` for ${Math.ceil(s.breaker.openMs / 1000)}s` : ''}`);
  for (const m of modelBlocks) console.log(`  ${`every project ${m.model}`.padEnd(40)} blocked${m.msLeft >= 0 ? ` for ${Math.ceil(m.msLeft / 1000)}s` : ''} (several projects failed together)`);
}

function printScopes(scopes: readonly ScopeStatus[]): void {
  console.log('\nquota per (project, model): used/limit [source] (rpd: spent/limit; reserved = spent + held in the pool)');
  for (const s of scopes) {
    // rpd: spent/limit, and what the ledger has reserved when the pool holds some of it
    const held = (d: DimensionUse): string => (d.reserved !== undefined && d.reserved > d.used ? `, ${d.reserved} reserved` : '');
    const dim = (d: DimensionUse): string => `${d.used}/${d.limit >= UNLIMITED_RPD ? 'unlimited' : d.limit} [${d.source}${isGuess(d.source) ? ', guess' : ''}${held(d)}]`;
    const flags = [
      s.unsupported ? 'UNSUPPORTED' : '',
      s.cooldownMs !== null ? `cooling ${Math.ceil(s.cooldownMs / 1000)}s` : '',
      s.excludedMs !== null ? `excluded ${s.excludedMs < 0 ? 'until cleared' : `${Math.ceil(s.excludedMs / 60000)}min`}` : '',
    ].filter(Boolean);
    console.log(`  ${`${s.projectId} ${s.model}`.padEnd(40)} ${DIMENSIONS.map((d) => `${d} ${dim(s[d]).padEnd(d === 'tpm' ? 30 : 24)}`).join(' ')} ${flags.join(' ')}`);
  }
}
