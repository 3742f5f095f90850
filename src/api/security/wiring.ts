import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errorMessage } from '../../errors.js';
import type { System } from '../../system.js';
import { adminGuard, adminLogoutRoute } from '../admin-auth.js';
import { tenantAuthenticator, tenantGuard, type TenantGuardDeps } from '../tenant-auth.js';
import { createAuthThrottle, type AuthThrottle } from './auth-throttle.js';
import { redisThrottleStore } from './redis-throttle-store.js';
import { redisSessionStore } from './session-store.js';

type Hook = (req: FastifyRequest, reply: FastifyReply) => Promise<void>;

/** The API's guards, wired to Redis once per server; every guard of a surface shares its counters. */
export interface ApiSecurity {
  /** the producer API's guard; `tokenOf`/`tokenHint` for dialects that carry the token elsewhere (`?key=`, `x-goog-api-key`) */
  tenantGuard(reading?: Pick<TenantGuardDeps, 'tokenOf' | 'tokenHint'>): Hook;
  /** the same check without an answer, for surfaces with their own error shapes (the drop-in endpoints) */
  tenantAuthenticator: ReturnType<typeof tenantAuthenticator>;
  /** the admin surface's onRequest hook */
  adminGuard: Hook;
  /** `POST /admin/logout`: register inside the admin-guarded scope */
  registerLogout(app: FastifyInstance): void;
}

const STORE_ERROR_LOG_EVERY_MS = 60_000;

export function apiSecurity(sys: Pick<System, 'config' | 'redis' | 'keys' | 'stores' | 'logger'>, opts: { adminToken: string | undefined }): ApiSecurity {
  const { limit, windowMs, adminLimitAll } = sys.config.authThrottle;
  let lastLogged = -Infinity;
  const onStoreError = (err: unknown): void => {
    // a Redis outage under a flood would otherwise log once per request
    if (Date.now() - lastLogged < STORE_ERROR_LOG_EVERY_MS) return;
    lastLogged = Date.now();
    sys.logger.warn({ err: errorMessage(err) }, 'auth throttle: Redis failed, counting failed attempts in this process only');
  };
  const throttle = (surface: string, max: number): AuthThrottle => createAuthThrottle(redisThrottleStore(sys.redis, sys.keys, surface, windowMs), { limit: max, windowMs }, { onStoreError });

  const tenantThrottle = throttle('tenant', limit);
  const sessions = redisSessionStore(sys.redis, sys.keys);
  return {
    tenantGuard: (reading = {}) => tenantGuard({ store: sys.stores.fleet, throttle: tenantThrottle, ...reading }),
    tenantAuthenticator: tenantAuthenticator({ store: sys.stores.fleet, throttle: tenantThrottle }),
    adminGuard: adminGuard({
      adminToken: opts.adminToken,
      sessions,
      throttle: throttle('admin', limit),
      throttleAll: throttle('admin-all', adminLimitAll),
      sessionTtlMs: sys.config.adminSessionTtlMs,
    }),
    registerLogout: (app) => adminLogoutRoute(app, sessions),
  };
}
