import type { FastifyReply, FastifyRequest } from 'fastify';
import { hashToken } from '../adapters/crypto/secret-box.js';
import { LruMap } from '../adapters/gemini/lru.js';
import type { FleetStore } from '../app/stores.js';
import type { Tenant } from '../core/types.js';
import type { AuthThrottle } from './security/auth-throttle.js';
import { throttleSubject } from './security/client-address.js';
import { bearerOf, refuse, tooManyAttempts } from './security/credentials.js';

declare module 'fastify' {
  interface FastifyRequest {
    tenant?: Tenant;
  }
}

export interface TenantGuardDeps {
  store: Pick<FleetStore, 'tenantByTokenHash'>;
  /** failed attempts per client address: a throttled address gets 429 before any lookup */
  throttle: AuthThrottle;
  /** where the token is read from; default `Authorization: Bearer` */
  tokenOf?: (req: FastifyRequest) => string | undefined;
  /** how the 401 tells a client to send its token; default `Authorization: Bearer <token>` */
  tokenHint?: string;
}

export interface TenantAuthOptions {
  /** how long a token lookup is remembered; short so a changed token stops working quickly; default 5000 ms */
  ttlMs?: number;
  /** bound on remembered tokens that were found; default 1000 */
  maxEntries?: number;
  /** bound on remembered tokens that were not found, kept apart so a flood of wrong ones cannot push out good ones; default 1000 */
  maxUnknownEntries?: number;
  clock?: () => number;
}

interface Remembered<T> {
  value: T;
  until: number;
}

/**
 * The producer API's guard: `Authorization: Bearer <tenant token>`; the
 * token is hashed (sha256) and looked up in Postgres, never stored or logged.
 * Sets `req.tenant`. 401 without a token, 403 for a token no tenant has, 429
 * for an address over its failed-attempt limit. Every check that is not a
 * known-good token counts as an attempt before it is made (a remembered
 * wrong token too), and a lookup that finds a tenant gives it back: wrong
 * tokens, new or repeated, never get past the limit. Concurrent checks of
 * one token from one address share one lookup and one attempt.
 */
export function tenantAuthenticator(deps: Pick<TenantGuardDeps, 'store' | 'throttle'>, opts: TenantAuthOptions = {}) {
  const ttlMs = opts.ttlMs ?? 5_000;
  const clock = opts.clock ?? Date.now;
  const known = new LruMap<string, Remembered<Tenant>>(opts.maxEntries ?? 1_000);
  const unknown = new LruMap<string, Remembered<null>>(opts.maxUnknownEntries ?? 1_000);

  const recall = <T>(map: LruMap<string, Remembered<T>>, hash: string): Remembered<T> | undefined => {
    const hit = map.get(hash);
    if (hit && hit.until > clock()) return hit;
    if (hit) map.delete(hash);
    return undefined;
  };

  const lookup = async (hash: string): Promise<Tenant | null> => {
    if (recall(unknown, hash)) return null;
    const tenant = await deps.store.tenantByTokenHash(hash);
    if (tenant) known.set(hash, { value: tenant, until: clock() + ttlMs });
    else unknown.set(hash, { value: null, until: clock() + ttlMs });
    return tenant;
  };

  const check = async (subject: string, hash: string): Promise<TenantAuthResult> => {
    const over = await deps.throttle.attempt(subject);
    if (over > 0) return { throttledMs: over };
    let tenant: Tenant | null;
    try {
      tenant = await lookup(hash);
    } catch (err) {
      // a lookup that could not be made says nothing against the client
      await deps.throttle.giveBack(subject);
      throw err;
    }
    if (!tenant) return { unknown: true };
    await deps.throttle.giveBack(subject);
    return { tenant };
  };

  // concurrent checks of one token from one address share one lookup and one
  // attempt: a client's own burst (or every request after the cache entry
  // expires) must not count as many failed attempts and lock the address out
  const inFlight = new Map<string, Promise<TenantAuthResult>>();
  return async (token: string, ip: string): Promise<TenantAuthResult> => {
    const subject = throttleSubject(ip);
    const hash = hashToken(token);
    const good = recall(known, hash);
    if (good) {
      const wait = await deps.throttle.wait(subject);
      return wait > 0 ? { throttledMs: wait } : { tenant: good.value };
    }
    const id = `${subject}\u0000${hash}`;
    let p = inFlight.get(id);
    if (!p) {
      p = check(subject, hash).finally(() => inFlight.delete(id));
      inFlight.set(id, p);
    }
    return p;
  };
}

/** A token checked against the tenants: its tenant, not known, or the address is throttled (retry after ms). */
export type TenantAuthResult = { tenant: Tenant } | { unknown: true } | { throttledMs: number };

/** The producer API's onRequest hook over tenantAuthenticator: answers 401 / 403 / 429 itself. */
export function tenantGuard(deps: TenantGuardDeps, opts: TenantAuthOptions = {}) {
  const authenticate = tenantAuthenticator(deps, opts);
  const tokenOf = deps.tokenOf ?? bearerOf;
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const token = tokenOf(req);
    if (token === undefined) return refuse(reply, 401, 'unauthorized', `tenant token required: ${deps.tokenHint ?? 'Authorization: Bearer <token>'}`);
    const r = await authenticate(token, req.ip);
    if ('throttledMs' in r) return tooManyAttempts(reply, r.throttledMs);
    if ('unknown' in r) return refuse(reply, 403, 'forbidden', 'unknown tenant token');
    req.tenant = r.tenant;
  };
}
