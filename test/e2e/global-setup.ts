// Brings the test cluster up before the e2e suite (building it on first use) and down after it.
// A suite that cannot run fails here: there is no silent skip.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { REPO, CDK_STATE, clusterReady } from './harness.js';

let startedHere = false;

export async function setup(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the e2e suite needs root (bridge and network namespaces); run it as root');
  if (!existsSync(`${REPO}/dist/runner.mjs`) || !existsSync(`${REPO}/dist/kubectl-crate_decommission.mjs`)) {
    execFileSync('npm', ['run', 'build'], { cwd: REPO, stdio: 'inherit' });
  }
  if (!(await clusterReady())) {
    startedHere = true;
    execFileSync(`${REPO}/test/cluster/up`, [], { cwd: REPO, stdio: 'inherit', env: { ...process.env, CDK_STATE } });
  }
  if (!(await clusterReady())) throw new Error(`test cluster in ${CDK_STATE} did not become ready: see ${CDK_STATE}/logs`);
}

export async function teardown(): Promise<void> {
  if (startedHere && process.env.CDK_KEEP !== '1') {
    execFileSync(`${REPO}/test/cluster/down`, [], { cwd: REPO, stdio: 'inherit', env: { ...process.env, CDK_STATE } });
  }
}
