/**
 * Redis work as Redis itself counts it: INFO commandstats (calls per command,
 * commands run inside Lua scripts included). Use on a private redis-server so
 * nobody else's traffic is in the difference.
 */
import type { Redis } from 'ioredis';

export type CommandCounts = Record<string, number>;

export async function commandStats(redis: Redis): Promise<CommandCounts> {
  const text = await redis.info('commandstats');
  const out: CommandCounts = {};
  for (const line of text.split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (m?.[1] && m[2]) out[m[1]] = Number(m[2]);
  }
  return out;
}

/** after - before, without the INFO calls the measurement itself made. */
export function diffCounts(before: CommandCounts, after: CommandCounts): CommandCounts {
  const out: CommandCounts = {};
  for (const [cmd, n] of Object.entries(after)) {
    const d = n - (before[cmd] ?? 0) - (cmd === 'info' ? 1 : 0);
    if (d > 0) out[cmd] = d;
  }
  return out;
}

export const SCRIPT_COMMANDS = ['evalsha', 'eval', 'evalsha_ro', 'eval_ro', 'fcall', 'fcall_ro'];

export function summarise(diff: CommandCounts, messages: number): { total: number; scripts: number; perMessage: number; scriptsPerMessage: number; top: Array<[string, number]> } {
  const total = Object.values(diff).reduce((a, b) => a + b, 0);
  const scripts = SCRIPT_COMMANDS.reduce((a, c) => a + (diff[c] ?? 0), 0);
  const top = Object.entries(diff)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 12)
    .map(([c, n]): [string, number] => [c, Math.round((n / messages) * 100) / 100]);
  return { total, scripts, perMessage: total / messages, scriptsPerMessage: scripts / messages, top };
}
