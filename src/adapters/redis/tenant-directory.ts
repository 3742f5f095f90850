import type { RedisClient as Redis } from './connection.js';
import { DEFAULT_TENANT_SETTINGS, type Tenant } from '../../core/types.js';
import { viaRedis } from './errors.js';
import type { RedisKeys } from './keys.js';

/** The producer-side settings of every tenant, as the enqueue script reads them: 'weight,maxJobs,maxBytes'. */
export function directoryEntries(tenants: readonly Tenant[], defaults: { maxQueuedJobs: number; maxQueuedBytes: number }): Array<[string, string]> {
  return tenants.map((t) => {
    const s = t.settings ?? DEFAULT_TENANT_SETTINGS;
    return [t.id, `${s.weight},${s.limits.queuedJobs ?? defaults.maxQueuedJobs},${s.limits.queuedBytes ?? defaults.maxQueuedBytes}`];
  });
}

/**
 * Publishes the tenant directory with the fleet, so producers (which know
 * only Redis) refuse unknown tenants and apply each tenant's caps and
 * weight. Replaced whole in one transaction: a producer never sees half.
 */
export async function publishTenantDirectory(redis: Redis, keys: RedisKeys, entries: ReadonlyArray<[string, string]>): Promise<void> {
  await viaRedis('tenant directory publish', async () => {
    const tx = redis.multi().del(keys.tenantDirectory);
    for (let i = 0; i < entries.length; i += 1_000) tx.hset(keys.tenantDirectory, Object.fromEntries(entries.slice(i, i + 1_000)));
    await tx.exec();
  });
}
