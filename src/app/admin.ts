import type { FleetSpec } from '../core/fleet-file.js';
import type { FleetIndex } from '../core/fleet-index.js';
import { scopeOf } from '../core/scope.js';
import { ConfigError, NotFoundError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Limiter } from './ports.js';
import { fleetModels, fleetScopes } from './snapshot.js';
import type { ApplySummary, ExclusionStore, FleetPlan, FleetStore, KeyListing, NewKey, RekeyOptions, RekeyReport } from './stores.js';

export interface AdminDeps {
  fleet: FleetStore;
  exclusions: ExclusionStore;
  limiter: Limiter;
  /** the stored fleet, indexed (for effective limits and the scopes to list) */
  loadFleet(): Promise<FleetIndex>;
  /** tells every worker the fleet changed */
  announce(): Promise<void>;
  /** encrypts secrets at rest; undefined when QUOTAFLOW_SECRET is not configured */
  secretKey: Buffer | undefined;
  resolveEnv: (name: string) => string | undefined;
  clock: () => number;
  logger: Logger;
}

const ms = (v: number | null): number | null => (v === null ? null : Number.isFinite(v) ? v : -1);

/**
 * What operators do, whichever surface they use (CLI, admin API,
 * dashboard): every change is stored, then announced so workers reload
 * within a second. Secrets are write-only: reads carry fingerprints.
 */
export function createAdmin(deps: AdminDeps) {
  const secretKey = (): Buffer => {
    if (!deps.secretKey) throw new ConfigError('QUOTAFLOW_SECRET is not set: keys cannot be stored (64 hex characters; `openssl rand -hex 32`)');
    return deps.secretKey;
  };
  const requireKey = async (id: string): Promise<KeyListing> => {
    const key = await deps.fleet.key(id);
    if (!key) throw new NotFoundError(`unknown key "${id}"`);
    return key;
  };

  return {
    async applyFleet(spec: FleetSpec, opts: { prune: boolean }): Promise<ApplySummary> {
      const summary = await deps.fleet.apply(spec, { secretKey: secretKey(), resolveEnv: deps.resolveEnv, prune: opts.prune });
      if (summary.changed) await deps.announce();
      return summary;
    },
    /** What applyFleet would change, writing nothing (secrets shown only as "changed"). */
    planFleet: (spec: FleetSpec, opts: { prune: boolean }): Promise<FleetPlan> => deps.fleet.plan(spec, { secretKey: secretKey(), resolveEnv: deps.resolveEnv, prune: opts.prune }),
    keys: () => deps.fleet.keys(),
    async addKey(k: NewKey): Promise<KeyListing> {
      const key = await deps.fleet.addKey(secretKey(), k);
      await deps.announce();
      deps.logger.info({ keyId: key.id, fingerprint: key.fingerprint }, 'key added');
      return key;
    },
    /**
     * Rewrites every stored secret under the current QUOTAFLOW_SECRET. Nothing
     * is announced: workers hold decrypted secrets, and the values they read
     * at their next reload decrypt to the same secrets.
     */
    async rekey(opts: RekeyOptions): Promise<RekeyReport> {
      secretKey();
      const report = await deps.fleet.rekey(opts);
      const { dryRun, keyId, total, rekeyed, current, skipped } = report;
      const failed = report.failed.map((f) => `${f.id} (${f.storedUnder})`);
      deps.logger.info({ dryRun, keyId, total, rekeyed, current, failed, skipped }, dryRun ? 'stored secrets checked (dry run)' : 'stored secrets re-encrypted');
      return report;
    },
    async disableKey(id: string, reason: string): Promise<KeyListing> {
      await requireKey(id);
      await deps.fleet.disableKey(id, reason, 'admin');
      await deps.announce();
      return requireKey(id);
    },
    async enableKey(id: string): Promise<{ changed: boolean; key: KeyListing | null }> {
      const changed = await deps.fleet.enableKey(id);
      await deps.announce();
      return { changed, key: await deps.fleet.key(id) };
    },
    tenants: () => deps.fleet.tenants(),
    projects: () => deps.fleet.projects(),
    async limits() {
      const fleet = await deps.loadFleet();
      const models = fleetModels(fleet);
      const effective = fleet.fleet.projects.flatMap((p) => models.map((model) => ({ projectId: p.id, model, ...fleet.limits(p.id, model) })));
      return { effective, stored: await deps.fleet.storedLimits() };
    },
    async exclusions() {
      const now = deps.clock();
      const rows = await deps.exclusions.active(new Date(now));
      return rows.map((r) => ({ ...r, msLeft: r.until ? r.until.getTime() - now : null }));
    },
    /** Clears stored exclusions of a scope (one reason, or all) and its day block in Redis. */
    async clearExclusion(projectId: string, model: string, reason?: string): Promise<number> {
      const cleared = await deps.exclusions.clear({ projectId, model, ...(reason !== undefined ? { reason } : {}) });
      await deps.limiter.clearBlock(scopeOf(projectId, model), 'day');
      await deps.announce();
      return cleared;
    },
    async cooldowns() {
      const scopes = fleetScopes(await deps.loadFleet());
      const blocks = await Promise.all(scopes.map(async (s) => ({ ...s, ...(await deps.limiter.blocks(s.scope)) })));
      return {
        cooldowns: blocks.filter((b) => b.coolMs !== null).map((b) => ({ projectId: b.projectId, model: b.model, msLeft: ms(b.coolMs) })),
        dayBlocks: blocks.filter((b) => b.dayMs !== null).map((b) => ({ projectId: b.projectId, model: b.model, msLeft: ms(b.dayMs) })),
      };
    },
    async clearCooldown(projectId: string, model: string): Promise<void> {
      await deps.limiter.clearBlock(scopeOf(projectId, model), 'cool');
      await deps.announce();
    },
  };
}

export type Admin = ReturnType<typeof createAdmin>;
