import { defineConfig } from 'vitest/config';

// Unit tests: no network, in-memory fakes only. The e2e suite has its own config.
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    testTimeout: 10_000,
    pool: 'threads',
  },
});
