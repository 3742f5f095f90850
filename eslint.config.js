import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'drizzle/**', '.quotaflow/**', 'bench/results/**', 'bin/**', 'eslint.config.js'] },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.base],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': ['error', { allow: ['warn', 'error'] }],
    },
  },
  { files: ['src/cli/**/*.ts', 'bench/**/*.ts', 'examples/**/*.ts', 'test/**/*.ts'], rules: { 'no-console': 'off' } },
  // the layers (docs/architecture.md): the core is pure, use cases know ports only
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['bullmq', 'ioredis', 'drizzle-orm', 'drizzle-orm/*', 'postgres', 'fastify', '@google/genai', 'node:fs', 'node:fs/*', 'node:net', 'node:http', '../adapters/*', '../app/*', '../api/*', '../config.js'], message: 'src/core is pure: side effects live in src/adapters behind a port' }] }],
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'config.ts is the only reader of process.env' }],
    },
  },
  {
    files: ['src/app/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['bullmq', 'ioredis', 'drizzle-orm', 'drizzle-orm/*', 'postgres', 'fastify', '../adapters/*', '../api/*'], allowTypeImports: true, message: 'use cases depend on ports (src/app/ports.ts, src/app/stores.ts), not on adapters (a type an adapter defines may be named)' }] }],
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'config.ts is the only reader of process.env' }],
    },
  },
);
