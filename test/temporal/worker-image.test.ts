// The Temporal worker image without a container engine: Dockerfile.worker replayed in temp dirs. The build stage from
// its context allow-list (Dockerfile.worker.dockerignore) with `node scripts/build.mjs`; the final stage's layout
// (what its COPY lines take from the build stage; `npm prune --omit=dev` = the package-lock's non-dev packages), then
// its ENTRYPOINT with the Deployment's args (manifests/temporal/worker-deployment.yaml) against a real dev server:
// the worker polls with the prebuilt workflow bundle, runs a workflow's activity from that layout, stops on SIGTERM.
// Stand-ins, said plainly: `npm ci` is the repository's node_modules (a symlink), and the base image's node is the
// repository's Node 24; whether the native bridge loads on the distroless base itself is not checked here.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { REPO, startDevServer } from './env.js';

interface Stage {
  from: string;
  name: string | null;
  instructions: Array<{ cmd: string; args: string }>;
}

/** Line continuations, comments, stages: enough for the project's Dockerfiles. */
function parseDockerfile(text: string): Stage[] {
  const logical: string[] = [];
  let buf = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (/^\s*#/.test(line)) continue;
    if (line.endsWith('\\')) {
      buf += `${line.slice(0, -1)} `;
      continue;
    }
    buf += line;
    if (buf.trim()) logical.push(buf.trim());
    buf = '';
  }
  const stages: Stage[] = [];
  for (const l of logical) {
    const [, c, args] = /^(\S+)\s*(.*)$/.exec(l)!;
    const cmd = c!.toUpperCase();
    if (cmd === 'FROM') {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args!)!;
      stages.push({ from: f[1]!, name: f[2] ?? null, instructions: [] });
    } else stages.at(-1)!.instructions.push({ cmd, args: args! });
  }
  return stages;
}

const NODE24 = join(REPO, 'node_modules', 'node', 'bin', 'node');
const stages = parseDockerfile(readFileSync(join(REPO, 'Dockerfile.worker'), 'utf8'));
const build = stages[0]!;
const final = stages.at(-1)!;
const allowed = readFileSync(join(REPO, 'Dockerfile.worker.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l.startsWith('!'))
  .map((l) => l.slice(1));
const inContext = (p: string) => allowed.some((a) => p === a || p.startsWith(`${a}/`));

let dir = '';
let env: TestWorkflowEnvironment;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cdk-worker-image-'));
  env = await startDevServer();
});
afterAll(async () => {
  await env?.teardown();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The packages `npm prune --omit=dev` keeps: every package-lock entry not marked dev. */
function productionPackages(): { keep: string[]; dev: Set<string> } {
  const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean; optional?: boolean }>;
  };
  const keep: string[] = [];
  const dev = new Set<string>();
  for (const [p, v] of Object.entries(lock.packages)) {
    if (!p.startsWith('node_modules/')) continue;
    if (v.dev) dev.add(p);
    // An optional package of another platform (@swc/core-darwin-arm64 ...) is not installed here, as npm skips it.
    else if (p.lastIndexOf('node_modules/') === 0 && !(v.optional && !existsSync(join(REPO, p)))) keep.push(p);
  }
  return { keep, dev };
}

describe('worker image (Dockerfile.worker)', () => {
  it('a node:24 build stage and a distroless node 24 final stage, non-root, exec-form ENTRYPOINT running `worker`', () => {
    expect(build.from).toMatch(/^node:24(-|$)/);
    expect(final.from).toMatch(/^gcr\.io\/distroless\/nodejs24-debian12:nonroot$/);
    expect(final.instructions.filter((i) => i.cmd === 'RUN')).toEqual([]);
    expect(final.instructions.filter((i) => i.cmd === 'USER').at(-1)?.args).toBe('65532:65532');
    const ep = JSON.parse(final.instructions.find((i) => i.cmd === 'ENTRYPOINT')!.args) as string[];
    expect(ep.at(-1)).toBe('worker');
    const manifest = parseAllDocuments(
      readFileSync(join(REPO, 'manifests/temporal/worker-deployment.yaml'), 'utf8'),
    ).map((d) => d.toJS())[0];
    const pod = manifest.spec.template.spec;
    expect(pod.containers[0].image).toMatch(/^ghcr\.io\/crate\/crate-decommission-temporal-worker:/);
    expect(pod.securityContext.runAsUser).toBe(65532);
  });

  it('the build stage: every COPY source is in the context allow-list, and that context builds the plugin and the workflow bundle', () => {
    const src = join(dir, 'src');
    mkdirSync(src, { recursive: true });
    for (const c of build.instructions.filter((i) => i.cmd === 'COPY')) {
      const parts = c.args.split(/\s+/).filter((p) => !p.startsWith('--'));
      parts.pop();
      for (const p of parts) {
        const path = p.replace(/\/$/, '');
        expect(inContext(path), `${path} in Dockerfile.worker.dockerignore's allow-list`).toBe(true);
        expect(existsSync(join(REPO, path)), `${path} exists`).toBe(true);
        cpSync(join(REPO, path), join(src, path), { recursive: true, filter: (s) => !s.endsWith('.test.ts') });
      }
    }
    symlinkSync(join(REPO, 'node_modules'), join(src, 'node_modules')); // stands in for `npm ci`
    const runs = build.instructions.filter((i) => i.cmd === 'RUN').map((r) => r.args);
    expect(runs.some((r) => r.startsWith('node scripts/build.mjs'))).toBe(true);
    const b = spawnSync(NODE24, ['scripts/build.mjs'], {
      cwd: src,
      encoding: 'utf8',
      env: { ...process.env, BUILD_COMMIT: 'test' },
    });
    expect(b.status, b.stderr).toBe(0);
    // The files the stage's `test -s` checks name.
    for (const [, f] of runs.join(' ').matchAll(/test -s (\S+)/g)) expect(existsSync(join(src, f!)), f).toBe(true);
    expect(existsSync(join(src, 'dist/lib/temporal/workflows.js'))).toBe(true);
  }, 180_000);

  it('the final stage layout starts the worker with the Deployment args: polls with the prebuilt bundle, runs an activity, stops on SIGTERM', async () => {
    const src = join(dir, 'src');
    expect(existsSync(join(src, 'dist/lib/kubectl-crate_decommission.mjs')), 'the build stage ran').toBe(true);
    const app = join(dir, 'app');
    const { keep, dev } = productionPackages();
    for (const c of final.instructions.filter((i) => i.cmd === 'COPY')) {
      const parts = c.args.split(/\s+/);
      const from = parts.find((p) => p.startsWith('--from='));
      const [s, d] = parts.filter((p) => !p.startsWith('--'));
      const dest = join(app, relative('/app', d!));
      if (!from) {
        cpSync(join(REPO, s!), dest, { recursive: true });
        continue;
      }
      expect(from).toBe(`--from=${build.name}`);
      if (s === '/src/node_modules') {
        // npm prune --omit=dev: the production packages only, nested dev ones left out.
        for (const p of keep) {
          cpSync(join(REPO, p), join(app, p), {
            recursive: true,
            dereference: true,
            filter: (x) => !dev.has(relative(REPO, x)),
          });
        }
      } else cpSync(join(src, relative('/src', s!)), dest, { recursive: true });
    }
    expect(existsSync(join(app, 'node_modules/@temporalio/core-bridge/releases'))).toBe(true);
    for (const devOnly of ['vitest', 'typescript', 'esbuild', '@temporalio/testing'])
      expect(existsSync(join(app, 'node_modules', devOnly)), devOnly).toBe(false);

    // The Deployment's container: args with $(TEMPORAL_ADDRESS) from its env, pointed at the dev server.
    const manifest = parseAllDocuments(
      readFileSync(join(REPO, 'manifests/temporal/worker-deployment.yaml'), 'utf8'),
    ).map((d) => d.toJS())[0];
    const container = manifest.spec.template.spec.containers[0] as {
      args: string[];
      env: Array<{ name: string; value: string }>;
    };
    const podEnv: Record<string, string> = Object.fromEntries(container.env.map((e) => [e.name, e.value]));
    podEnv.TEMPORAL_ADDRESS = env.address;
    const args = container.args.map((a) => a.replace(/\$\((\w+)\)/g, (_m, k: string) => podEnv[k] ?? ''));
    const taskQueue = /--task-queue=(\S+)/.exec(args.join(' '))![1]!;
    // A kubeconfig whose context `prod` the workflow will not find: the activity fails as bad_input, from this layout.
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {token: x}}]\ncontexts: [{name: only, context: {cluster: c, user: u}}]\ncurrent-context: only\n',
    );
    const ep = JSON.parse(final.instructions.find((i) => i.cmd === 'ENTRYPOINT')!.args) as string[];
    const argv = [
      ...ep.slice(1).map((a) => (a.startsWith('/app/') ? join(app, relative('/app', a)) : a)),
      ...args,
      `--kubeconfig=${kubeconfig}`,
    ];
    const workdir = final.instructions.filter((i) => i.cmd === 'WORKDIR').at(-1)!.args;
    const child = spawn(NODE24, argv, {
      cwd: join(app, relative('/app', workdir)),
      env: { PATH: '/usr/bin:/bin', HOME: dir, NODE_ENV: 'production', ...podEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    child.stdout.on('data', (d: Buffer) => (log += d.toString()));
    child.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 60_000;
      while (!/polling task queue/.test(log) && child.exitCode === null && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
      expect(log, log).toMatch(new RegExp(`polling task queue ${taskQueue} on ${env.address.replace(/\./g, '\\.')}`));
      expect(log, 'the prebuilt workflow bundle was used').not.toMatch(/bundling the workflow code now/);
      const err = await env.client.workflow
        .execute('clusterMaintenanceWorkflow', {
          taskQueue,
          workflowId: `image-${process.pid}`,
          args: [{ target: { namespace: 'crate', kind: 'cratedb', name: 'prod' }, kubeContext: 'prod' }],
        })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      const cause = (err as WorkflowFailedError).cause;
      expect(cause).toBeInstanceOf(ApplicationFailure);
      expect((cause as ApplicationFailure).type).toBe('bad_input');
      expect((cause as ApplicationFailure).message).toMatch(/prod/);
      // The activity ran in the worker of this layout (the SDK logs the failed activity with its type).
      expect(log).toMatch(/Activity failed.*analyzeCluster/s);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited, log.slice(-2000)).toBe(0);
    expect(log).toMatch(/worker stopped/);
  }, 180_000);
});
