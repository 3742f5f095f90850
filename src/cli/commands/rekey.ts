import type { RekeyReport } from '../../app/stores.js';
import { loadConfig } from '../../config.js';
import { defineCommand } from '../args.js';
import { bootstrap, requireSecretKey } from '../bootstrap.js';

/** A progress line at most this often: long runs show they move, short ones stay quiet. */
const PROGRESS_EVERY_MS = 2_000;

export const rekey = defineCommand({
  name: 'rekey',
  summary: 're-encrypt every stored API key under the current QUOTAFLOW_SECRET (after a rotation; safe while everything runs)',
  flags: {
    'dry-run': { type: 'boolean', description: 'count what would be re-encrypted and what cannot be decrypted, and write nothing' },
    json: { type: 'boolean', description: 'print the result as one JSON object' },
    batch: { type: 'int', default: 100, min: 1, max: 1000, description: 'key rows read and written per transaction' },
  },
  details: [
    'Rotation: set QUOTAFLOW_SECRET=<new> and QUOTAFLOW_SECRET_PREVIOUS=<old> on every process, run `quotaflow rekey`,',
    'then drop QUOTAFLOW_SECRET_PREVIOUS (README "Rotating QUOTAFLOW_SECRET"). Exits 1 when some stored key cannot be',
    'decrypted with the keyring (they are listed with the key id they are stored under) or kept changing meanwhile.',
  ].join('\n'),
  async run(f) {
    const config = loadConfig();
    requireSecretKey(config, 'to re-encrypt stored API keys');
    const { sys } = await bootstrap({ name: 'rekey', oneOff: true, config });
    try {
      let lastProgress = Date.now();
      const report = await sys.admin.rekey({
        dryRun: f['dry-run'],
        batch: f.batch,
        onProgress: ({ done, total }) => {
          if (Date.now() - lastProgress < PROGRESS_EVERY_MS) return;
          lastProgress = Date.now();
          console.error(`rekey: ${done}/${total} keys examined`);
        },
      });
      console.log(f.json ? JSON.stringify(report) : formatReport(report));
      return report.failed.length > 0 || report.skipped.length > 0 ? 1 : 0;
    } finally {
      await sys.close();
    }
  },
});

function formatReport(r: RekeyReport): string {
  const verb = r.dryRun ? 'would be re-encrypted' : 're-encrypted';
  const head = `${r.dryRun ? 'dry run: ' : ''}${r.total} keys: ${r.rekeyed} ${verb} under key id ${r.keyId}, ${r.current} already under it, ${r.failed.length} cannot be decrypted`;
  const lines = [r.dryRun ? `${head}; nothing was written` : head];
  if (r.failed.length) {
    lines.push('cannot be decrypted with this keyring (put the key they are stored under in QUOTAFLOW_SECRET_PREVIOUS, or re-apply their secrets):');
    const width = Math.max(...r.failed.map((x) => x.id.length));
    lines.push(...r.failed.map((x) => `  ${x.id.padEnd(width)}  ${storedUnder(x.storedUnder)}`));
  }
  if (r.skipped.length) lines.push(`changed by another writer at every attempt, run rekey again: ${r.skipped.join(', ')}`);
  return lines.join('\n');
}

function storedUnder(keyId: string): string {
  if (keyId === 'v1') return 'stored as v1 (no key id): none of the keyring opens it';
  if (keyId === 'unrecognised') return 'not a stored secret format quotaflow knows';
  return `stored under key id ${keyId}`;
}
