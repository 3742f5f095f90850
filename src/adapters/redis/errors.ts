import { DependencyError, errorMessage } from '../../errors.js';

/**
 * Redis failures, wrapped once at this boundary. Connection trouble, a
 * server out of memory or read-only, a timeout: a DependencyError the worker
 * waits out. An error a script raises by itself (`ERR user_script…`, a bad
 * argument) is a bug in quotaflow and is rethrown unchanged, so it fails the
 * job at once instead of being retried until its deadline; so is CROSSSLOT
 * (keys in several cluster slots: a prefix without a hash tag on a cluster).
 */
const SCRIPT_BUG = /^(ERR (user_script|Error (running|compiling) script)|ERR .*(wrong number of arguments|not an integer|WRONGTYPE))|^WRONGTYPE|^CROSSSLOT/;

export function isScriptBug(err: unknown): boolean {
  return err instanceof Error && SCRIPT_BUG.test(err.message);
}

export function isOutOfMemory(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('OOM ');
}

export function redisFailure(what: string, err: unknown): Error {
  if (isScriptBug(err)) return err instanceof Error ? err : new Error(String(err));
  return new DependencyError(`Redis ${what} failed: ${errorMessage(err)}`, { cause: err });
}

/** Runs one Redis operation, wrapping its failure once. */
export async function viaRedis<T>(what: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    throw redisFailure(what, err);
  }
}
