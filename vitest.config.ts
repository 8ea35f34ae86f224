import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (pkg: string, file = 'index.ts') =>
  fileURLToPath(new URL(`./packages/${pkg}/src/${file}`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      {
        find: /^@lifeboat\/test-support\/(.*)$/,
        replacement: fileURLToPath(new URL('./packages/test-support/src/$1.ts', import.meta.url)),
      },
      { find: /^@lifeboat\/core\/testing$/, replacement: src('core', 'testing/index.ts') },
      { find: /^@lifeboat\/core$/, replacement: src('core') },
      { find: /^@lifeboat\/storage-local$/, replacement: src('storage-local') },
      { find: /^@lifeboat\/storage-s3$/, replacement: src('storage-s3') },
      { find: /^@lifeboat\/storage-s3\/fields$/, replacement: src('storage-s3', 'fields.ts') },
      { find: /^@lifeboat\/plugin-config-files$/, replacement: src('plugin-config-files') },
      { find: /^@lifeboat\/plugin-postgres$/, replacement: src('plugin-postgres') },
      {
        find: /^@lifeboat\/plugin-postgres\/fields$/,
        replacement: src('plugin-postgres', 'fields.ts'),
      },
      { find: /^@lifeboat\/notifier-smtp$/, replacement: src('notifier-smtp') },
      {
        find: /^@lifeboat\/notifier-smtp\/fields$/,
        replacement: src('notifier-smtp', 'fields.ts'),
      },
      { find: /^@lifeboat\/notifier-webhook$/, replacement: src('notifier-webhook') },
      {
        find: /^@lifeboat\/notifier-webhook\/fields$/,
        replacement: src('notifier-webhook', 'fields.ts'),
      },
      { find: /^@lifeboat\/preset-env$/, replacement: src('preset-env') },
    ],
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
  },
});
