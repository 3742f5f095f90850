import { LruMap } from '../../adapters/gemini/lru.js';

/**
 * Counts authentication attempts per subject (a client address, or `all` for
 * a whole surface) in a fixed window, so that guessing tokens costs time and
 * a throttled subject is refused before anything is looked up.
 *
 * Contract: an attempt is counted before it is checked, so attempts made in
 * parallel cannot overrun the limit; a check that succeeds gives its attempt
 * back, so successes never count against anyone and never reset anyone's
 * failures. After `limit` counted attempts in a window the subject waits
 * until the window ends. Methods never throw: when the shared store fails,
 * the process's own counts decide.
 */
export interface AuthThrottle {
  /** ms `subject` must wait before any attempt of its is checked; 0 when it may try now */
  wait(subject: string): Promise<number>;
  /** counts one attempt before it is checked; > 0 when over the limit: refuse it unchecked, retry after that many ms (a subject known to be blocked is refused without counting) */
  attempt(subject: string): Promise<number>;
  /** gives back an attempt whose check succeeded (or could not be made at all) */
  giveBack(subject: string): Promise<void>;
}

export interface ThrottleLimits {
  /** counted attempts a subject may make per window */
  limit: number;
  windowMs: number;
}

/** What a shared store reports for a subject: attempts in its window and ms until the window ends. */
export interface WindowCount {
  count: number;
  msLeft: number;
}

/** The window counters shared by every API process (Redis in production). */
export interface ThrottleStore {
  /** the subject's current count (0 and the whole window when it has none) */
  read(subject: string): Promise<WindowCount>;
  /** adds one attempt, starting a window when none is open */
  add(subject: string): Promise<WindowCount>;
  /** takes one attempt back */
  giveBack(subject: string): Promise<void>;
}

export interface AuthThrottleOptions {
  clock?: () => number;
  /** bound on subjects remembered in process (blocked ones, and counts kept while the store fails); default 10000 */
  maxLocalEntries?: number;
  /** told when the shared store fails (the process's own counts decide meanwhile) */
  onStoreError?: (err: unknown) => void;
}

/**
 * The throttle over a shared store, with a bounded in-process layer: a
 * subject known to be blocked is refused without asking the store again (a
 * flood from one address does not become a flood of store calls), and the
 * process's own counts stand in while the store is unavailable.
 */
export function createAuthThrottle(store: ThrottleStore, limits: ThrottleLimits, opts: AuthThrottleOptions = {}): AuthThrottle {
  const clock = opts.clock ?? Date.now;
  const max = opts.maxLocalEntries ?? 10_000;
  const blockedUntil = new LruMap<string, number>(max);
  const local = new LruMap<string, { count: number; until: number }>(max);

  const localCount = (subject: string, now: number): WindowCount => {
    const c = local.get(subject);
    return c && c.until > now ? { count: c.count, msLeft: c.until - now } : { count: 0, msLeft: limits.windowMs };
  };
  const bumpLocal = (subject: string, now: number): WindowCount => {
    const c = localCount(subject, now);
    local.set(subject, { count: c.count + 1, until: now + c.msLeft });
    return { count: c.count + 1, msLeft: c.msLeft };
  };
  const shared = async <T>(op: () => Promise<T>, fallback: T): Promise<T> => {
    try {
      return await op();
    } catch (err) {
      opts.onStoreError?.(err);
      return fallback;
    }
  };
  const knownBlock = (subject: string, now: number): number => {
    const until = blockedUntil.get(subject);
    return until !== undefined && until > now ? until - now : 0;
  };
  const block = (subject: string, now: number, msLeft: number): number => {
    const ms = Math.max(1, msLeft);
    blockedUntil.set(subject, now + ms);
    return ms;
  };

  return {
    async wait(subject) {
      const now = clock();
      const known = knownBlock(subject, now);
      if (known > 0) return known;
      const c = await shared(() => store.read(subject), localCount(subject, now));
      return c.count >= limits.limit ? block(subject, now, c.msLeft) : 0;
    },
    async attempt(subject) {
      const now = clock();
      const known = knownBlock(subject, now);
      if (known > 0) return known;
      const mine = bumpLocal(subject, now);
      const c = await shared(() => store.add(subject), mine);
      return c.count > limits.limit ? block(subject, now, c.msLeft) : 0;
    },
    async giveBack(subject) {
      const c = local.get(subject);
      if (c && c.count > 0) c.count -= 1;
      // the count just went down: let the store say again whether the subject is blocked
      blockedUntil.delete(subject);
      await shared(() => store.giveBack(subject), undefined);
    },
  };
}
