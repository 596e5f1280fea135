import { defineConfig } from 'vitest/config';

// End-to-end suite: a real control plane, the process kubelet and the CrateDB simulator
// (test/cluster/up). Files run one after another: they share one cluster.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.ts'],
    globalSetup: ['test/e2e/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 240_000,
    hookTimeout: 300_000,
    pool: 'forks',
  },
});
