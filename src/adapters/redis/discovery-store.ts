import type { DiscoveryState } from '../../core/discovery.js';
import { WINDOW_DIMENSIONS, type WindowDimension } from '../../core/dimensions.js';
import type { ScopeId } from '../../core/scope.js';
import type { RedisClient as Redis } from './connection.js';
import { DISCOVERY_FIELD_KEYS, discoveryFieldNames, discoveryFieldValues, parseDiscoveryFields } from './discovery-fields.js';
import { viaRedis } from './errors.js';
import type { RedisKeys } from './keys.js';
import { defineScripts } from './scripts.js';

type Scripted = Redis & { qfRestoreDiscovery(state: string, limitField: string, ...pairs: string[]): Promise<number> };

/** The live discovery states in Redis, read for keeping (Postgres) and put back after Redis lost them. */
export function createDiscoveryStates(redis: Redis, keys: RedisKeys) {
  defineScripts(redis);
  const r = redis as Scripted;
  return {
    async read(scope: ScopeId): Promise<Partial<Record<WindowDimension, DiscoveryState>>> {
      const values = await viaRedis('discovery read', () => redis.hmget(keys.scope(scope).state, ...WINDOW_DIMENSIONS.flatMap((d) => discoveryFieldNames(d))));
      const out: Partial<Record<WindowDimension, DiscoveryState>> = {};
      WINDOW_DIMENSIONS.forEach((d, i) => {
        const s = parseDiscoveryFields(d, values.slice(i * DISCOVERY_FIELD_KEYS.length, (i + 1) * DISCOVERY_FIELD_KEYS.length));
        if (s) out[d] = s;
      });
      return out;
    },
    /** true when it was restored; a state discovery already moved on in Redis is left alone */
    async restore(scope: ScopeId, dim: WindowDimension, state: DiscoveryState): Promise<boolean> {
      const pairs = discoveryFieldValues(dim, state).flat();
      return (await viaRedis('discovery restore', () => r.qfRestoreDiscovery(keys.scope(scope).state, `d.${dim}.l`, ...pairs))) === 1;
    },
  };
}
