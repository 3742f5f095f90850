import type { FleetRecords, FleetSource, Ledger } from '../../app/ports.js';
import type { DemotionStore, ExclusionStore, FleetStore, UsageStore } from '../../app/stores.js';
import { scopeOf } from '../../core/scope.js';
import { ConfigError } from '../../errors.js';
import { createKeyring, type Keyring } from '../crypto/secret-box.js';
import { addKey, findKey, listKeys, listProjects, listStoredLimits, listTenants, usageByTenant } from './admin-repo.js';
import type { Database } from './db.js';
import { activeExclusions, clearExclusion, deleteExpiredExclusions, upsertExclusion } from './exclusions-repo.js';
import { applyFleet, planFleet, disableKey, enableKey, fleetVersion, loadFleet, loadKeySecrets, tenantByTokenHash } from './fleet-repo.js';
import { keyOutcomeBuckets, loadDemotions, saveDemotions } from './key-health-repo.js';
import { refundRpd, reserveRpd, reserveRpdBlock, rpdUsage } from './ledger-repo.js';
import { recordLearnedLimit } from './limits-repo.js';
import { rekeySecrets } from './rekey-repo.js';
import { deleteUsageBefore, recordUsage, tenantCostTotals, tenantUsageDays, tenantUsageTotals } from './usage-repo.js';
import { viaPostgres } from './errors.js';

export interface PostgresStores {
  fleet: FleetStore;
  exclusions: ExclusionStore;
  usage: UsageStore;
  demotions: DemotionStore;
  ledger: Ledger;
  records: FleetRecords;
  /** the fleet as workers load it; the announcement half is Redis' (see system.ts) */
  fleetSource: Pick<FleetSource, 'load' | 'loadSecrets' | 'storedVersion'>;
}

/**
 * Every Postgres repository behind its port, built once per process by the
 * composition root. Driver failures leave here as DependencyError.
 * `keyring` reads stored secrets (the previous keys too, during a rotation);
 * without one, `secretKey` alone does.
 */
export function createPostgresStores(db: Database, opts: { secretKey: Buffer | undefined; keyring?: Keyring | undefined }): PostgresStores {
  const pg = viaPostgres;
  const keyring = opts.keyring ?? (opts.secretKey ? createKeyring(opts.secretKey) : undefined);
  const requireKeyring = (why: string): Keyring => {
    if (!keyring) throw new ConfigError(`QUOTAFLOW_SECRET is not set: stored keys cannot be ${why}`);
    return keyring;
  };
  return {
    fleet: {
      apply: (spec, o) => pg('fleet apply', () => applyFleet(db, spec, { ...o, keyring: o.keyring ?? keyring })),
      plan: (spec, o) => pg('fleet plan', () => planFleet(db, spec, { ...o, keyring: o.keyring ?? keyring })),
      keys: () => pg('key listing', () => listKeys(db)),
      key: (id) => pg('key lookup', () => findKey(db, id)),
      addKey: (secretKey, k) => pg('key insert', () => addKey(db, secretKey, k)),
      rekey: (o) => {
        const ring = requireKeyring('re-encrypted');
        return pg('secret re-encryption', () => rekeySecrets(db, ring, o));
      },
      disableKey: (id, reason, by) => pg('key update', () => disableKey(db, id, reason, by)),
      enableKey: (id) => pg('key update', () => enableKey(db, id)),
      tenants: () => pg('tenant listing', () => listTenants(db)),
      projects: () => pg('project listing', () => listProjects(db)),
      storedLimits: () => pg('limit listing', () => listStoredLimits(db)),
      tenantByTokenHash: (hash) => pg('tenant lookup', () => tenantByTokenHash(db, hash)),
    },
    exclusions: {
      active: (now) => pg('exclusion listing', () => activeExclusions(db, now)),
      clear: (scope) => pg('exclusion delete', () => clearExclusion(db, scope)),
      deleteExpired: (now) => pg('exclusion expiry', () => deleteExpiredExclusions(db, now)),
    },
    usage: {
      write: (events) => pg('usage insert', () => recordUsage(db, events)),
      byTenant: (since) => pg('usage read', () => usageByTenant(db, since)),
      deleteBefore: (before) => pg('usage retention', () => deleteUsageBefore(db, before)),
      keyOutcomeBuckets: (since) => pg('usage read', () => keyOutcomeBuckets(db, since)),
      tenantDays: (q) => pg('tenant usage read', () => tenantUsageDays(db, q)),
      tenantTotals: (days) => pg('tenant usage read', () => tenantUsageTotals(db, days)),
      tenantCosts: () => pg('tenant cost read', () => tenantCostTotals(db)),
    },
    demotions: {
      load: () => pg('demotion read', () => loadDemotions(db)),
      save: (ids) => pg('demotion write', () => saveDemotions(db, ids)),
    },
    ledger: {
      reserve: (s) => pg('RPD reservation', () => reserveRpd(db, s)),
      reserveBlock: (s) => pg('RPD reservation', () => reserveRpdBlock(db, s)),
      refund: (s) => pg('RPD refund', () => refundRpd(db, s)),
      used: (day) => pg('RPD read', async () => new Map((await rpdUsage(db, day)).map((r) => [scopeOf(r.projectId, r.model), r.used]))),
    },
    records: {
      excludeScope: (e) => pg('exclusion upsert', () => upsertExclusion(db, e)),
      disableKey: (keyId, reason) => pg('key update', () => disableKey(db, keyId, reason, 'system')),
      learnLimit: (l) => pg('limit upsert', () => recordLearnedLimit(db, l)),
    },
    fleetSource: {
      load: () => pg('fleet load', () => loadFleet(db)),
      loadSecrets: () => {
        const ring = requireKeyring('decrypted');
        return pg('secret load', () => loadKeySecrets(db, ring));
      },
      storedVersion: () => pg('fleet version read', () => fleetVersion(db)),
    },
  };
}
