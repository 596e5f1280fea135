// Brings the test cluster up before the e2e suite (building it on first use) and down after it (only when it
// started it here, unless CDK_KEEP=1). Builds dist/ first, so the plugin and the runner Job run the sources under
// test. A suite that cannot run fails here: there is no silent skip. Prints the suite's wall time at the end.
import { execFileSync, spawnSync } from 'node:child_process';
import { REPO, CDK_STATE, clusterReady } from './harness.js';

let startedHere = false;
let started = 0;

export async function setup(): Promise<void> {
  started = Date.now();
  if (process.getuid?.() !== 0)
    throw new Error('the e2e suite needs root (bridge and network namespaces); run it as root');
  // The runner image maps to `node dist/lib/runner.mjs` (test/cluster/images.json): build what is tested (~3 s).
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: REPO, stdio: 'inherit' });
  // The Temporal CLI (`temporal server start-dev`, the Temporal e2e's server): built once from the pinned module
  // (10-25 min cold), a no-op afterwards; waits for a build .ci/run started in the background.
  execFileSync(`${REPO}/test/cluster/build-temporal`, [], { cwd: REPO, stdio: ['ignore', 'ignore', 'inherit'] });
  startedHere = !(await clusterReady());
  // `up` is idempotent (~1 s on a running cluster): it starts what is missing and says when a running part is
  // older than its sources - a suite against a stale simulator or kubelet tests the wrong thing.
  const t = Date.now();
  const up = spawnSync(`${REPO}/test/cluster/up`, [], {
    cwd: REPO,
    encoding: 'utf8',
    env: { ...process.env, CDK_STATE },
  });
  process.stderr.write(up.stdout + up.stderr);
  if (up.status !== 0) throw new Error(`test/cluster/up failed (exit ${up.status}): see above and ${CDK_STATE}/logs`);
  process.stderr.write(
    `e2e: test cluster ${startedHere ? 'up' : 'checked'} in ${((Date.now() - t) / 1000).toFixed(1)} s\n`,
  );
  const stale = `${up.stdout}\n${up.stderr}`
    .split('\n')
    .filter((l) => /from an older build|is not the current build/.test(l));
  if (stale.length > 0) {
    const what = `the running test cluster has parts older than their sources:\n  ${stale.join('\n  ')}\n`;
    if (process.env.E2E_ALLOW_STALE !== '1') {
      throw new Error(
        `${what}Replace them (test/cluster/down && test/cluster/up; this drops every simulated cluster), or run with E2E_ALLOW_STALE=1`,
      );
    }
    process.stderr.write(`e2e: WARNING ${what}`);
  }
  if (!(await clusterReady()))
    throw new Error(`test cluster in ${CDK_STATE} did not become ready: see ${CDK_STATE}/logs`);
  process.stderr.write(`e2e: setup done after ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

export async function teardown(): Promise<void> {
  if (startedHere && process.env.CDK_KEEP !== '1') {
    execFileSync(`${REPO}/test/cluster/down`, [], { cwd: REPO, stdio: 'inherit', env: { ...process.env, CDK_STATE } });
  }
  process.stderr.write(
    `e2e: suite wall time ${((Date.now() - started) / 1000).toFixed(1)} s (setup, tests${startedHere ? ', cluster down' : ''})\n`,
  );
}
