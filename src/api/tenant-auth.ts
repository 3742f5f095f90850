import type { FastifyReply, FastifyRequest } from 'fastify';
import { hashToken } from '../adapters/crypto/secret-box.js';
import type { FleetStore } from '../app/stores.js';
import type { Tenant } from '../core/types.js';
import { bearerOf } from './admin-auth.js';

declare module 'fastify' {
  interface FastifyRequest {
    tenant?: Tenant;
  }
}

export interface TenantAuthOptions {
  /** how long a token lookup is remembered; short so a changed token stops working quickly; default 5000 ms */
  ttlMs?: number;
  /** bound on remembered lookups; default 1000 */
  maxEntries?: number;
}

/**
 * The producer API's guard: `Authorization: Bearer <tenant token>`; the
 * token is hashed (sha256) and looked up in Postgres, never stored or logged.
 * Sets `req.tenant`. 401 without a token, 403 for a token no tenant has.
 */
export function tenantGuard(store: Pick<FleetStore, 'tenantByTokenHash'>, opts: TenantAuthOptions = {}) {
  const ttlMs = opts.ttlMs ?? 5_000;
  const max = opts.maxEntries ?? 1_000;
  const cache = new Map<string, { tenant: Tenant | null; until: number }>();

  const lookup = async (hash: string): Promise<Tenant | null> => {
    const now = Date.now();
    const hit = cache.get(hash);
    if (hit && hit.until > now) return hit.tenant;
    const tenant = await store.tenantByTokenHash(hash);
    cache.delete(hash);
    if (cache.size >= max) {
      const oldest = cache.keys().next();
      if (!oldest.done) cache.delete(oldest.value);
    }
    cache.set(hash, { tenant, until: now + ttlMs });
    return tenant;
  };

  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const token = bearerOf(req);
    if (token === undefined) {
      await reply.code(401).header('www-authenticate', 'Bearer').send({ error: { code: 'unauthorized', message: 'tenant token required: Authorization: Bearer <token>' } });
      return;
    }
    const tenant = await lookup(hashToken(token));
    if (!tenant) {
      await reply.code(403).send({ error: { code: 'forbidden', message: 'unknown tenant token' } });
      return;
    }
    req.tenant = tenant;
  };
}
