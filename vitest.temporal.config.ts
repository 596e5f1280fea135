import { defineConfig } from 'vitest/config';

// Workflow tests on a real Temporal dev server (test/temporal/env.ts): the CLI comes from test/cluster/build-temporal.
export default defineConfig({
  test: {
    include: ['test/temporal/**/*.test.ts'],
    testTimeout: 60_000,
    // Building the Temporal CLI on a cold cache takes 10-25 minutes (a no-op once built).
    hookTimeout: 1_800_000,
    pool: 'forks',
    fileParallelism: false,
  },
});
