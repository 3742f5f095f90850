import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisCluster, type LocalCluster } from '../helpers/redis-cluster.js';

/** The harness the other cluster tests stand on: a real three-master cluster, and nothing left behind. */
let cluster: LocalCluster;

beforeAll(async () => {
  cluster = await startRedisCluster();
  console.info(`local Redis Cluster started in ${cluster.startedInMs} ms`);
});
afterAll(() => cluster.stop());

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const portOf = (node: string): number => Number(node.split(':')[1]);

describe('local Redis Cluster', () => {
  it('runs three masters on loopback, none on the system Redis port', () => {
    expect(cluster.nodes).toHaveLength(3);
    expect(new Set(cluster.nodes).size).toBe(3);
    for (const node of cluster.nodes) {
      expect(node).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(portOf(node)).not.toBe(6379);
    }
    expect(cluster.pids).toHaveLength(3);
    for (const pid of cluster.pids) expect(alive(pid)).toBe(true);
  });

  it('covers every slot, split between the three masters', async () => {
    const r = new Redis(portOf(cluster.nodes[0] ?? ''), '127.0.0.1');
    try {
      const info = await r.cluster('INFO');
      expect(info).toMatch(/^cluster_state:ok\r?$/m);
      expect(info).toMatch(/^cluster_known_nodes:3\r?$/m);
      const ranges = await r.cluster('SLOTS');
      const sorted = ranges.map(([from, to, master]) => ({ from, to, node: `${master?.[0]}:${master?.[1]}` })).sort((a, b) => a.from - b.from);
      expect(sorted[0]?.from).toBe(0);
      expect(sorted.at(-1)?.to).toBe(16_383);
      for (let i = 1; i < sorted.length; i++) expect(sorted[i]?.from).toBe((sorted[i - 1]?.to ?? -2) + 1);
      expect(new Set(sorted.map((s) => s.node))).toEqual(new Set(cluster.nodes));
    } finally {
      r.disconnect();
    }
  });

  it('stop ends every process and removes its files; a second stop is harmless', async () => {
    const other = await startRedisCluster();
    expect(other.nodes.filter((n) => cluster.nodes.includes(n))).toEqual([]);
    expect(existsSync(other.dir)).toBe(true);
    await other.stop();
    for (const pid of other.pids) expect(alive(pid)).toBe(false);
    expect(existsSync(other.dir)).toBe(false);
    await other.stop();
    // the first cluster is untouched
    for (const pid of cluster.pids) expect(alive(pid)).toBe(true);
  });

  it('a start that fails leaves no directory behind and says why', async () => {
    const dirs = (): string[] => readdirSync(tmpdir()).filter((d) => d.startsWith('qf-cluster-'));
    const before = new Set(dirs());
    await expect(startRedisCluster({ serverArgs: ['--no-such-directive', 'x'] })).rejects.toThrow(/could not start a local Redis Cluster .*exited/);
    expect(dirs().filter((d) => !before.has(d))).toEqual([]);
  });
});
