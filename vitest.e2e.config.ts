import { defineConfig } from 'vitest/config';

const CDK_STATE = process.env.CDK_STATE ?? '/var/lib/cdk';

// End-to-end suite: a real control plane, the process kubelet and the CrateDB simulator
// (test/cluster/up), plus the port contracts of test/contract/ against the same cluster.
// The global setup brings the cluster up (building it on first use) and FAILS when it cannot:
// nothing here skips because the cluster is missing. Files share the one cluster but each scenario has its own
// namespace and simulated CrateDB cluster, so a few files run at once (E2E_WORKERS, default 3): the time is
// spent waiting (drains, health readings, Job starts), not computing.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.ts', 'test/contract/**/*.cluster.test.ts'],
    globalSetup: ['test/e2e/global-setup.ts'],
    env: { CDK_STATE, CDK_CONTRACT_KUBECONFIG: `${CDK_STATE}/kubeconfig` },
    fileParallelism: true,
    maxWorkers: Number(process.env.E2E_WORKERS ?? 3),
    testTimeout: 240_000,
    hookTimeout: 300_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
