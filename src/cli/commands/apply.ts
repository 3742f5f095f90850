import { readFile } from 'node:fs/promises';
import { parseFleetText } from '../../core/fleet-file.js';
import type { ApplySummary } from '../../app/stores.js';
import { ValidationError } from '../../errors.js';
import { parseFlags, type Command } from '../args.js';
import { bootstrap } from '../bootstrap.js';

export const apply: Command = {
  summary: 'make the stored fleet match a fleet file (idempotent)',
  usage: 'quotaflow apply -f FILE [--prune] [--json]',
  async run(args) {
    const f = parseFlags(args, { file: { type: 'string', short: 'f' }, prune: { type: 'boolean' }, json: { type: 'boolean' } });
    if (!f.file) throw new ValidationError('apply needs -f FILE (a fleet file, see README "Fleet file")');
    const text = await readFile(f.file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      throw new ValidationError(`cannot read ${f.file}: ${err.code ?? err.message}`);
    });
    const spec = parseFleetText(text);
    const { sys } = await bootstrap({ name: 'apply' });
    try {
      const summary = await sys.admin.applyFleet(spec, { prune: f.prune ?? false });
      if (f.json) console.log(JSON.stringify(summary));
      else console.log(formatSummary(summary));
      return 0;
    } finally {
      await sys.close();
    }
  },
};

function formatSummary(s: ApplySummary): string {
  const rows = Object.entries(s)
    .filter(([, v]) => typeof v === 'object' && v !== null && 'created' in v)
    .map(([kind, v]) => {
      const c = v as { created: number; updated: number; unchanged: number; removed: number };
      return `  ${kind.padEnd(9)} created ${c.created}, updated ${c.updated}, unchanged ${c.unchanged}, removed ${c.removed}`;
    });
  return [`fleet ${s.changed ? `applied (version ${s.version})` : `unchanged (version ${s.version})`}`, ...rows].join('\n');
}
