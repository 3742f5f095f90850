import { readFile, stat } from 'node:fs/promises';
import type { ApplySummary, FleetPlan } from '../../app/stores.js';
import type { FleetChange } from '../../adapters/postgres/fleet-diff.js';
import { loadConfig } from '../../config.js';
import { checkFleetText, MAX_FLEET_TEXT } from '../../core/fleet-file.js';
import { ValidationError } from '../../errors.js';
import { defineCommand } from '../args.js';
import { bootstrap, requireSecretKey } from '../bootstrap.js';

/** Changes listed by a text dry run; --json lists them all. */
const MAX_LISTED_CHANGES = 200;
const KINDS = ['models', 'projects', 'tenants', 'keys', 'limits'] as const;

export const apply = defineCommand({
  name: 'apply',
  summary: 'make the stored fleet match a fleet file (idempotent)',
  flags: {
    file: { type: 'string', short: 'f', value: 'FILE', required: true, description: 'the fleet file (JSON; README "Fleet file")' },
    prune: { type: 'boolean', description: 'also remove keys, tenants, projects and configured limits the file no longer names' },
    'dry-run': { type: 'boolean', description: 'print what would be created, updated and removed, and write nothing' },
    json: { type: 'boolean', description: 'print the summary (or the dry run) as one JSON object' },
  },
  async run(f) {
    const { spec, warnings } = checkFleetText(await readFleetFile(f.file));
    for (const w of warnings) console.error(`warning: ${w}`);
    const config = loadConfig();
    requireSecretKey(config, 'to store API keys');
    const opts = { prune: f.prune };
    const { sys } = await bootstrap({ name: 'apply', oneOff: true, config });
    try {
      if (f['dry-run']) {
        const plan = await sys.admin.planFleet(spec, opts);
        console.log(f.json ? JSON.stringify({ dryRun: true, ...plan, warnings }) : formatPlan(plan));
        return 0;
      }
      const summary = await sys.admin.applyFleet(spec, opts);
      console.log(f.json ? JSON.stringify({ ...summary, warnings }) : formatSummary(summary));
      return 0;
    } finally {
      await sys.close();
    }
  },
});

async function readFleetFile(file: string): Promise<string> {
  const cannot = (err: NodeJS.ErrnoException): never => {
    throw new ValidationError(`cannot read ${file}: ${err.code ?? err.message}`);
  };
  const info = await stat(file).catch(cannot);
  if (info.size > MAX_FLEET_TEXT) throw new ValidationError(`${file} is larger than ${MAX_FLEET_TEXT / 1024 / 1024} MiB`);
  return readFile(file, 'utf8').catch(cannot);
}

function countRows(s: ApplySummary, tense: 'did' | 'would'): string[] {
  const [create, update, remove] = tense === 'did' ? ['created', 'updated', 'removed'] : ['create', 'update', 'remove'];
  return KINDS.map((kind) => {
    const c = s[kind];
    return `  ${kind.padEnd(9)} ${create} ${c.created}, ${update} ${c.updated}, unchanged ${c.unchanged}, ${remove} ${c.removed}`;
  });
}

function formatSummary(s: ApplySummary): string {
  return [`fleet ${s.changed ? `applied (version ${s.version})` : `unchanged (version ${s.version})`}`, ...countRows(s, 'did')].join('\n');
}

const SIGN: Readonly<Record<FleetChange['action'], string>> = { create: '+', update: '~', remove: '-' };

function formatPlan(p: FleetPlan): string {
  const head = p.changed ? `dry run: applying would change the fleet (now version ${p.version}); nothing was written` : `dry run: the stored fleet already matches (version ${p.version})`;
  const lines = p.changes.slice(0, MAX_LISTED_CHANGES).map((c) => `  ${SIGN[c.action]} ${c.kind} ${c.id}${c.details.length ? `: ${c.details.join(', ')}` : ''}`);
  const more = p.changes.length > MAX_LISTED_CHANGES ? [`  … and ${p.changes.length - MAX_LISTED_CHANGES} more (--json lists every change)`] : [];
  return [head, ...countRows(p, 'would'), ...(lines.length ? ['changes:', ...lines, ...more] : [])].join('\n');
}
