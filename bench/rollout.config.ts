import { defineConfig } from 'vitest/config';

const CDK_STATE = process.env.CDK_STATE ?? '/var/lib/cdk';

// npm run bench:rollout (through bench/rollout.sh): vitest only as the harness of bench/rollout.cluster.ts on the
// test cluster, with the e2e suite's global setup (builds dist/, brings the cluster up). Prints figures; not part
// of `npm test` (neither vitest.config.ts nor vitest.e2e.config.ts include bench/).
export default defineConfig({
  test: {
    include: ['bench/rollout.cluster.ts'],
    globalSetup: ['test/e2e/global-setup.ts'],
    env: { CDK_STATE },
    fileParallelism: false,
    testTimeout: 4 * 3600_000,
    hookTimeout: 600_000,
    pool: 'forks',
    disableConsoleIntercept: true,
    reporters: ['default'],
  },
});
