import { defineConfig } from 'vitest/config';

// Port contracts against the real test cluster (test/cluster/up): `npx vitest run --config test/contract/vitest.config.ts`.
// Fails (never skips) when the cluster's kubeconfig (${CDK_STATE:-/var/lib/cdk}/kubeconfig) is absent.
export default defineConfig({
  test: {
    include: ['test/contract/**/*.cluster.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
