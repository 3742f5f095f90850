import { readFileSync } from 'node:fs';
import type { RedisClient as Redis } from './connection.js';

/**
 * The project's Lua scripts, kept as BullMQ keeps its own: one file per
 * script in ./commands, named `<name>-<numKeys>.lua` (a name without a count
 * takes a variable number of keys, passed first at call time), opening with
 * its KEYS/ARGV header and sharing helpers through `--- @include
 * "includes/<file>"`. Every key a script touches arrives in KEYS, built by
 * keys.ts, so the scripts run on Redis Cluster with a hash-tagged prefix.
 */
const DIR = new URL('./commands/', import.meta.url);
const INCLUDE = /^--- @include "([\w/-]+)"\s*$/gm;

export const SCRIPT_FILES = ['admit', 'settle', 'block-1', 'note-1', 'enqueue-2', 'release-1', 'started-1', 'finish-2', 'event-1', 'event-restart-1', 'restore-discovery-1'] as const;
export type ScriptFile = (typeof SCRIPT_FILES)[number];

/** A script's source with its includes inlined (each once, in order). */
export function scriptSource(file: string, seen = new Set<string>()): string {
  const text = readFileSync(new URL(`${file}.lua`, DIR), 'utf8');
  return text.replace(INCLUDE, (_m, inc: string) => {
    if (seen.has(inc)) return '';
    seen.add(inc);
    return scriptSource(inc, seen);
  });
}

/** The command name ioredis registers for a script file: `qf` + camel case of its name. */
export function commandName(file: string): string {
  const base = file.replace(/-\d+$/, '');
  return `qf${base.replace(/(^|-)(\w)/g, (_m, _d: string, c: string) => c.toUpperCase())}`;
}

const sources = new Map<string, string>();

/** Registers every script on a connection once (ioredis sends EVALSHA, falling back to EVAL). */
export function defineScripts(redis: Redis): void {
  for (const file of SCRIPT_FILES) {
    const name = commandName(file);
    if (name in redis) continue;
    let lua = sources.get(file);
    if (lua === undefined) {
      lua = scriptSource(file);
      sources.set(file, lua);
    }
    const keys = /-(\d+)$/.exec(file)?.[1];
    redis.defineCommand(name, keys === undefined ? { lua } : { lua, numberOfKeys: Number(keys) });
  }
}
