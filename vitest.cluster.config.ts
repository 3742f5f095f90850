import { defineConfig } from 'vitest/config';

/** The Redis Cluster suite: each file starts its own three-node cluster, so one file at a time. */
export default defineConfig({
  test: {
    include: ['test/cluster/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default', ['json', { outputFile: 'test-artifacts/vitest-cluster.json' }]],
  },
});
