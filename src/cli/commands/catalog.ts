import { loadCatalog } from '../../adapters/catalog/catalog-files.js';
import { UNLIMITED_RPD, closestModel, isGuess, resolveModelAlias } from '../../core/catalog.js';
import { catalogReport, stableJson, type CatalogReport, type ModelReport, type PriceRowReport } from '../../core/catalog-report.js';
import { TIERS, type Tier } from '../../core/types.js';
import { ValidationError } from '../../errors.js';
import { defineCommand } from '../args.js';

export const catalog = defineCommand({
  name: 'catalog',
  summary: 'show the effective model catalog (limits per tier, prices, shutdown dates, aliases) and where every value came from',
  flags: {
    json: { type: 'boolean', description: 'print the catalog as stable JSON (docs/catalog.md describes the shape)' },
    model: { type: 'string', value: 'ID', description: 'show one model (aliases resolved)' },
    tier: { type: 'string', choices: TIERS, description: 'show one tier' },
    file: { type: 'string', value: 'CATALOG.json', defaultText: '$QUOTAFLOW_CATALOG', description: 'a catalog override file (same format, partial)' },
    fleet: { type: 'string', value: 'FLEET.json', description: "preview a fleet file's catalog section on top" },
  },
  async run(f) {
    const tier = f.tier === undefined ? undefined : parseTier(f.tier);
    const { catalog: effective, layers } = await loadCatalog({ file: f.file, fleetFile: f.fleet });
    let model: string | undefined;
    if (f.model !== undefined) {
      model = resolveModelAlias(effective, f.model);
      if (!effective.models.has(model)) {
        const near = closestModel(effective, f.model);
        throw new ValidationError(
          `no catalog layer lists the model "${f.model}"${near ? ` (did you mean "${near}"?)` : ''}; ` +
            'quotaflow would hold it at the safe floor and discover its limits',
        );
      }
    }
    const report = catalogReport(effective, { layers, ...(model ? { model } : {}), ...(tier ? { tier } : {}) });
    console.log(f.json ? stableJson(report) : formatReport(report));
    return 0;
  },
});

function parseTier(value: string): Tier {
  const tier = TIERS.find((t) => t === value);
  if (!tier) throw new ValidationError(`--tier must be one of ${TIERS.join(', ')}, got "${value}"`);
  return tier;
}

const tag = (source: string, guess = false): string => `[${source}${guess ? ', guess' : ''}]`;

function formatPrices(p: PriceRowReport): string {
  const cached = p.cachedInput === null ? 'cached = input' : `cached ${p.cachedInput}`;
  return `input ${p.input}, output ${p.output}, ${cached}`;
}

function formatLifecycle(l: NonNullable<ModelReport['lifecycle']>): string {
  const parts: string[] = [l.status];
  if (l.released) parts.push(`released ${l.released}`);
  if (l.shutdown) parts.push(`shutdown ${l.shutdown}`);
  if (l.replacement) parts.push(`replacement ${l.replacement}`);
  return `${parts.join(', ')} ${tag(l.source)}`;
}

function formatModel(id: string, m: ModelReport): string[] {
  const lines = [`${id}${m.lifecycle ? `  ${formatLifecycle(m.lifecycle)}` : ''}`];
  if (m.aliases.length) lines.push(`  also named: ${m.aliases.join(', ')}`);
  for (const [tier, dims] of Object.entries(m.limits)) {
    const shown = (d: 'rpm' | 'tpm' | 'rpd'): string => (d === 'rpd' && dims[d].value === UNLIMITED_RPD ? 'unlimited' : String(dims[d].value));
    const cell = (d: 'rpm' | 'tpm' | 'rpd'): string => `${d} ${shown(d)} ${tag(dims[d].source, dims[d].guess)}`.padEnd(34);
    lines.push(`  ${tier.padEnd(6)} ${cell('rpm')}${cell('tpm')}${cell('rpd')}`.trimEnd());
  }
  const p = m.prices;
  if (!p) {
    lines.push('  prices: none (calls cost 0 and are reported as unpriced)');
    return lines;
  }
  lines.push(`  prices, USD per 1M tokens: ${formatPrices(p)} ${tag(p.source)}`);
  if (p.longContext) lines.push(`    prompts over ${p.longContext.aboveTokens} tokens: ${formatPrices({ ...p.longContext, longContext: null })}`);
  for (const c of p.changes) lines.push(`    from ${c.from}: ${formatPrices(c)}`);
  return lines;
}

function formatReport(r: CatalogReport): string {
  const out = [
    `layers (later wins): ${r.layers.map((l) => `${l.name} [${l.source}]`).join(' < ')}`,
    `safe floor for models and tiers no layer lists: rpm ${r.floor.rpm}, tpm ${r.floor.tpm}, rpd ${r.floor.rpd} (raised by discovery)`,
    '',
  ];
  for (const [id, m] of Object.entries(r.models)) out.push(...formatModel(id, m), '');
  const aliases = Object.entries(r.aliases);
  if (aliases.length) {
    out.push('aliases');
    for (const [id, a] of aliases) out.push(`  ${id} -> ${a.model} ${tag(a.source, isGuess(a.source, a.note))}`);
    out.push('');
  }
  out.push('notes on where each value came from: quotaflow catalog --json');
  return out.join('\n');
}
