import { defineConfig } from 'vitest/config';

/** The reliability suite (issue #7): real processes, private Redis/Postgres, one file at a time. */
export default defineConfig({
  test: {
    include: ['test/reliability/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 900_000,
    reporters: ['default', ['json', { outputFile: 'test-artifacts/vitest-reliability.json' }]],
  },
});
