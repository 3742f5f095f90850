import { reportJson, type UsageFigures, type UsageReport } from '../../app/usage-report.js';
import { parseUsageQuery } from '../../app/usage.js';
import { formatUsd } from '../../core/money.js';
import { ValidationError } from '../../errors.js';
import { defineCommand } from '../args.js';
import { bootstrap } from '../bootstrap.js';

export const usage = defineCommand({
  name: 'usage',
  summary: 'show usage and cost per day and model (requests, tokens, USD), own and central keys apart, with totals',
  flags: {
    tenant: { type: 'string', short: 't', value: 'T', description: 'one tenant', defaultText: 'every tenant' },
    from: { type: 'string', value: 'YYYY-MM-DD', description: 'first Pacific quota day', defaultText: 'today' },
    to: { type: 'string', value: 'YYYY-MM-DD', description: 'last Pacific quota day (inclusive, at most 366 days after --from)', defaultText: 'today' },
    csv: { type: 'boolean', description: 'one CSV row per tenant, day, model and kind of key' },
    json: { type: 'boolean', description: 'print one JSON object (money as exact USD strings and cents)' },
  },
  details: 'Cost is computed per call from the catalog\'s prices on its quota day (the fleet file\'s catalog section wins), exactly, and shown in USD.',
  async run(f) {
    if (f.csv && f.json) throw new ValidationError('choose one of --csv and --json');
    const { sys } = await bootstrap({ name: 'usage', oneOff: true });
    try {
      const report = await sys.usage.report(parseUsageQuery({ tenant: f.tenant, from: f.from, to: f.to }, sys.usage.today().day));
      console.log(f.json ? JSON.stringify(reportJson(report)) : f.csv ? usageCsv(report) : usageTable(report));
      return 0;
    } finally {
      await sys.close();
    }
  },
});

const CSV_HEADER = 'tenant,day,model,keys,requests,successes,prompt_tokens,candidates_tokens,thoughts_tokens,total_tokens,cost_usd';

/** Ids are letters, digits and `_ . : @ -`: no field needs quoting. */
export function usageCsv(r: UsageReport): string {
  const rows = r.rows.map((x) => [x.tenantId, x.day, x.model, x.central ? 'central' : 'own', x.requests, x.successes, x.promptTokens, x.candidatesTokens, x.thoughtsTokens, x.totalTokens, formatUsd(x.costPico)].join(','));
  return [CSV_HEADER, ...rows].join('\n');
}

const figures = (f: UsageFigures): string => `${String(f.requests).padStart(9)} ${String(f.successes).padStart(9)} ${String(f.totalTokens).padStart(12)} ${formatUsd(f.costPico).padStart(16)}`;

export function usageTable(r: UsageReport): string {
  const period = 'days' in r.days ? r.days.days.join(', ') : r.days.from === r.days.to ? r.days.from : `${r.days.from} .. ${r.days.to}`;
  const lines = [`usage of ${r.tenantId === null ? 'every tenant' : `tenant ${r.tenantId}`}, ${period} (quota days; cost in USD at the catalog's prices)`, ''];
  if (r.rows.length === 0) return [...lines, 'no usage recorded'].join('\n');
  const who = r.tenantId === null;
  lines.push(`${who ? 'tenant'.padEnd(20) : ''}${'day'.padEnd(12)}${'model'.padEnd(26)}${'keys'.padEnd(9)}${'requests'.padStart(9)} ${'successes'.padStart(9)} ${'tokens'.padStart(12)} ${'cost USD'.padStart(16)}`);
  for (const x of r.rows) lines.push(`${who ? x.tenantId.padEnd(20) : ''}${x.day.padEnd(12)}${x.model.padEnd(26)}${(x.central ? 'central' : 'own').padEnd(9)}${figures(x)}`);
  const pad = (who ? 20 : 0) + 12 + 26;
  lines.push('', `${'total'.padEnd(pad)}${''.padEnd(9)}${figures(r.total)}`, `${'  own keys'.padEnd(pad)}${''.padEnd(9)}${figures(r.own)}`, `${'  central keys'.padEnd(pad)}${''.padEnd(9)}${figures(r.central)}`);
  return lines.join('\n');
}
