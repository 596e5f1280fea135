// The real Temporal server of the Temporal tests: `temporal server start-dev` from the CLI that
// test/cluster/build-temporal builds (cached; a no-op when built), on an ephemeral port of 127.0.0.1, through
// @temporalio/testing's TestWorkflowEnvironment.createLocal with the CLI as an existing executable (the SDK's own
// download of a server is not reachable here). The workflow code is bundled once per file from the sources.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** Path of the built Temporal CLI (builds it on first use: 10-25 min cold). */
export function temporalCli(): string {
  if (process.env.CDK_TEMPORAL_CLI) return process.env.CDK_TEMPORAL_CLI;
  const out = execFileSync(`${REPO}test/cluster/build-temporal`, [], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return out.trim().split('\n').pop()!;
}

export async function startDevServer(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporalCli() },
      ip: '127.0.0.1',
      ui: false,
      log: { format: 'pretty', level: 'warn' },
    },
  });
}

let bundle: Promise<WorkflowBundleWithSourceMap> | null = null;
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({
    workflowsPath: `${REPO}shared/temporal/workflows/index.ts`,
    logger: {
      trace() {},
      debug() {},
      info() {},
      log() {},
      warn: (m: string) => console.warn(m),
      error: (m: string) => console.error(m),
    },
  });
  return bundle;
}
