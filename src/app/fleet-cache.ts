import { buildFleetIndex, type FleetIndex } from '../core/fleet-index.js';
import type { Fleet } from '../core/types.js';
import { SecretError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { FleetSource } from './ports.js';

export type { FleetSource };

export interface FleetCache {
  current(): FleetIndex;
  secretOf(keyId: string): string | undefined;
  /** reloads now if the fleet changed; true when it reloaded */
  refresh(force?: boolean): Promise<boolean>;
  stop(): Promise<void>;
}

/**
 * Workers hold the fleet in memory and never query configuration per lease.
 * A change made by `apply` (or by blame) bumps the version and is announced
 * on a channel every worker listens to; each worker also polls the announced
 * version every `pollMs` and the stored one every `verifyEveryMs`, in case an
 * announcement was lost with a Redis restart.
 */
export async function createFleetCache(
  source: FleetSource,
  opts: {
    pollMs?: number;
    verifyEveryMs?: number;
    logger: Logger;
    onReload?: (fleet: Fleet) => void;
    /** publishes the stored fleet again when Redis lost the announcement (a restart without persistence) */
    announce?: () => Promise<void>;
    /** the decrypted secrets, each time they are (re)loaded: what must be scrubbed from anything leaving the process */
    onSecrets?: (values: string[]) => void;
  },
): Promise<FleetCache> {
  let index = buildFleetIndex(await source.load());
  let secrets = await source.loadSecrets();
  opts.onSecrets?.([...secrets.values()]);
  let lastVerify = Date.now();
  let busy = false;

  const reload = async (): Promise<void> => {
    const [fleet, sec] = await Promise.all([source.load(), source.loadSecrets()]);
    index = buildFleetIndex(fleet);
    secrets = sec;
    opts.onSecrets?.([...sec.values()]);
    opts.logger.info({ version: fleet.version, keys: fleet.keys.length }, 'fleet reloaded');
    opts.onReload?.(fleet);
  };

  const refresh = async (force = false): Promise<boolean> => {
    if (busy) return false;
    busy = true;
    try {
      let version = await source.announcedVersion();
      if (version === null && opts.announce) {
        await opts.announce();
        opts.logger.info('the fleet announcement was missing from Redis: published it again');
      }
      if (version === null || Date.now() - lastVerify > (opts.verifyEveryMs ?? 10_000)) {
        version = await source.storedVersion();
        lastVerify = Date.now();
      }
      if (!force && version === index.fleet.version) return false;
      await reload();
      return true;
    } finally {
      busy = false;
    }
  };

  // a secret this process cannot decrypt (a key rotation it has not been restarted for) does not heal by retrying: one error, not one warning per poll
  let undecryptable = '';
  const tick = (): void => {
    refresh()
      .then((reloaded) => {
        if (reloaded) undecryptable = '';
      })
      .catch((err: unknown) => {
        if (!(err instanceof SecretError)) return opts.logger.warn({ err }, 'fleet refresh failed; keeping the last fleet');
        if (err.message !== undecryptable) opts.logger.error({ err }, 'fleet reload failed: a stored key cannot be decrypted with this process\'s QUOTAFLOW_SECRET / QUOTAFLOW_SECRET_PREVIOUS; keeping the last fleet until it restarts with the key named');
        undecryptable = err.message;
      });
  };
  const timer = setInterval(tick, opts.pollMs ?? 500);
  timer.unref();
  const unsubscribe = source.subscribe ? await source.subscribe(tick) : async () => undefined;

  return {
    current: () => index,
    secretOf: (keyId) => secrets.get(keyId),
    refresh,
    async stop() {
      clearInterval(timer);
      await unsubscribe();
    },
  };
}
