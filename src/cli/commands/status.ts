import { defineCommand } from '../args.js';
import { bootstrap } from '../bootstrap.js';

export const status = defineCommand({
  name: 'status',
  summary: 'show keys, projects, models, quota use and limits (with where each limit came from)',
  flags: {
    json: { type: 'boolean', description: 'print one JSON object instead of tables' },
  },
  async run(f) {
    const { sys } = await bootstrap({ name: 'status', oneOff: true });
    try {
      const { fleet, day, scopes } = await sys.snapshot();
      const f2 = fleet.fleet;
      if (f.json) {
        console.log(JSON.stringify({ version: f2.version, day, models: f2.models, tenants: f2.tenants, projects: f2.projects, keys: f2.keys, scopes }));
        return 0;
      }
      console.log(`fleet version ${f2.version}; day ${day}; default chain: ${f2.models.join(' > ') || '(none)'}`);
      console.log(`\ntenants (${f2.tenants.length})`);
      for (const t of f2.tenants) console.log(`  ${t.id.padEnd(20)} ${t.keyMode.padEnd(17)} ${(t.models ?? f2.models).join(' > ')}`);
      console.log(`\nkeys (${f2.keys.length})`);
      for (const k of f2.keys) {
        const state = k.enabled ? 'enabled' : `DISABLED (${k.disabledReason ?? 'no reason'})`;
        console.log(`  ${k.id.padEnd(20)} ${(k.tenantId ?? 'central').padEnd(14)} ${k.projectId.padEnd(18)} p${k.priority}  ${state}`);
      }
      console.log('\nquota per (project, model): used/limit [source]');
      for (const s of scopes) {
        const dim = (d: { used: number; limit: number; source: string }): string => `${d.used}/${d.limit} [${d.source}]`;
        const flags = [
          s.unsupported ? 'UNSUPPORTED' : '',
          s.cooldownMs !== null ? `cooling ${Math.ceil(s.cooldownMs / 1000)}s` : '',
          s.excludedMs !== null ? `excluded ${s.excludedMs < 0 ? 'until cleared' : `${Math.ceil(s.excludedMs / 60000)}min`}` : '',
        ].filter(Boolean);
        console.log(`  ${`${s.projectId} ${s.model}`.padEnd(40)} rpm ${dim(s.rpm).padEnd(20)} tpm ${dim(s.tpm).padEnd(26)} rpd ${dim(s.rpd).padEnd(20)} ${flags.join(' ')}`);
      }
      return 0;
    } finally {
      await sys.close();
    }
  },
});
