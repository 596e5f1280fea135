// Helpers of the e2e suite: kubectl, the plugin as a user runs it, the simulator's control API, watches.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CDK_STATE = process.env.CDK_STATE ?? '/var/lib/cdk';
export const CDK_CACHE = process.env.CDK_CACHE ?? `${process.env.HOME ?? '/root'}/.cache/crate-decommission`;
export const KUBECONFIG = `${CDK_STATE}/kubeconfig`;
export const NODE = `${REPO}/node_modules/.bin/node`;
export const PLUGIN = `${REPO}/dist/lib/kubectl-crate_decommission.mjs`;
/** Runner image: the process kubelet maps it to `node dist/lib/runner.mjs` (test/cluster/images.json). */
export const RUNNER_IMAGE = 'ghcr.io/crate/crate-decommission:e2e';

let kubectlBin: string | undefined;
/** kubectl built with the control plane (same pinned version). */
export function kubectlPath(): string {
  if (kubectlBin) return kubectlBin;
  const bin = execFileSync(`${REPO}/test/cluster/build-controlplane`, [], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  })
    .trim()
    .split('\n')
    .pop()!;
  kubectlBin = path.join(bin, 'kubectl');
  return kubectlBin;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

function run(
  cmd: string,
  args: string[],
  opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: REPO,
      env: { ...process.env, KUBECONFIG, NO_COLOR: '1', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 300_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (process.env.E2E_VERBOSE === '1')
        process.stderr.write(`--- ${path.basename(cmd)} ${args.join(' ')} -> ${code}\n${stdout}${stderr}\n`);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
    child.stdin.on('error', () => undefined); // a command that does not read stdin: EPIPE is fine
    child.stdin.end(opts.input ?? '');
  });
}

export function kubectl(args: string[], input?: string): Promise<RunResult> {
  return run(kubectlPath(), args, input === undefined ? {} : { input });
}

export async function kubectlOk(args: string[], input?: string): Promise<string> {
  const r = await kubectl(args, input);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

export async function kubectlJson<T = any>(args: string[]): Promise<T> {
  return JSON.parse(await kubectlOk([...args, '-o', 'json'])) as T;
}

/** Run the plugin exactly as `kubectl crate-decommission ...` would (the bundled executable). */
export function plugin(args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
  return run(NODE, [PLUGIN, ...args], opts);
}

/** Start the plugin without waiting (to kill it, or run two at once). */
export function pluginSpawn(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawn(NODE, [PLUGIN, ...args], {
    cwd: REPO,
    env: { ...process.env, KUBECONFIG, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export async function clusterReady(): Promise<boolean> {
  try {
    const r = await new Promise<number>((resolve) => {
      execFile(kubectlPath(), ['--kubeconfig', KUBECONFIG, 'get', '--raw', '/readyz'], { timeout: 10_000 }, (err) =>
        resolve(err ? 1 : 0),
      );
    });
    if (r !== 0) return false;
    const nodes = JSON.parse(
      execFileSync(kubectlPath(), ['--kubeconfig', KUBECONFIG, 'get', 'nodes', '-o', 'json'], { encoding: 'utf8' }),
    );
    const ready = nodes.items.some((n: any) =>
      n.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'),
    );
    return (
      ready &&
      (await sim('GET', '/healthz').then(
        () => true,
        () => false,
      ))
    );
  } catch {
    return false;
  }
}

/** The CrateDB simulator's control API (HTTP over its unix socket). */
export function sim<T = any>(method: string, urlPath: string, body?: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        socketPath: `${CDK_STATE}/crate-sim.sock`,
        path: urlPath,
        method,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        let data = '';
        res.on('data', (d: Buffer) => (data += d.toString()));
        res.on('end', () => {
          if ((res.statusCode ?? 500) >= 400) reject(new Error(`sim ${method} ${urlPath}: ${res.statusCode} ${data}`));
          else resolve(data ? (JSON.parse(data) as T) : (undefined as T));
        });
      },
    );
    req.on('error', reject);
    if (body !== undefined) req.write(JSON.stringify(body));
    req.end();
  });
}

/** Poll a condition with a deadline (the cluster's own state changes; this is the test observing it). */
export async function eventually<T>(
  what: string,
  fn: () => Promise<T | undefined | null | false>,
  timeoutMs = 120_000,
  everyMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Records every pod UID seen in a namespace through `kubectl get pods --watch`, so a test can
 * assert that each pod was re-created exactly once.
 */
export function recordPodUids(namespace: string) {
  const seen = new Map<string, Set<string>>();
  const child = spawn(
    kubectlPath(),
    ['get', 'pods', '-n', namespace, '--watch', '-o', 'jsonpath={.metadata.name} {.metadata.uid}{"\\n"}'],
    { env: { ...process.env, KUBECONFIG }, stdio: ['ignore', 'pipe', 'ignore'] },
  );
  let buf = '';
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    for (const line of lines) {
      const [name, uid] = line.trim().split(' ');
      if (!name || !uid) continue;
      const s = seen.get(name) ?? new Set<string>();
      s.add(uid);
      seen.set(name, s);
    }
  });
  return {
    uids: (name: string) => [...(seen.get(name) ?? [])],
    stop: () => child.kill('SIGTERM'),
  };
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${Math.random().toString(36).slice(2, 7)}`;
}

export function listCacheDirs(): string[] {
  try {
    return readdirSync(`${CDK_CACHE}/bin`);
  } catch {
    return [];
  }
}

// ------------------------------------------------------------------ scenario helpers

/** A fresh namespace for one scenario; `drop` deletes it without waiting. */
export async function createNamespace(prefix: string): Promise<{ name: string; drop: () => Promise<void> }> {
  const name = uniqueName(prefix);
  await kubectlOk(['create', 'namespace', name]);
  await eventually(
    `ServiceAccount default in ${name}`,
    async () => (await kubectl(['get', 'sa', 'default', '-n', name])).code === 0,
    30_000,
  );
  return {
    name,
    drop: async () => {
      if (process.env.CDK_KEEP === '1') return;
      // A terminating namespace accepts no new pods; then skip the pods' preStop hooks (dc_util would try to
      // drain each node of a cluster nobody needs, for up to its timeout - or forever while a table is RED).
      await kubectl(['delete', 'namespace', name, '--wait=false']);
      await kubectl(['delete', 'pods', '--all', '-n', name, '--grace-period=0', '--force', '--wait=false']);
    },
  };
}

/** The runner's RBAC from the repo's own manifests (manifests/kustomization.yaml), re-targeted by a kustomize overlay. */
export async function installRbacFromManifests(namespace: string): Promise<string> {
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const os = await import('node:os');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cdk-e2e-kustomize-'));
  writeFileSync(
    path.join(dir, 'kustomization.yaml'),
    `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: ${namespace}\nresources:\n  - ${path.relative(dir, path.join(REPO, 'manifests'))}\n`,
  );
  return kubectlOk(['apply', '-k', dir]);
}

/** Flatten nested settings ({cluster: {routing: ...}} or dotted keys) into dotted keys. */
export function flattenSettings(obj: unknown, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (obj && typeof obj === 'object' && !Array.isArray(obj)) {
    for (const [k, v] of Object.entries(obj)) {
      const key = prefix ? `${prefix}.${k}` : k;
      if (v && typeof v === 'object' && !Array.isArray(v)) Object.assign(out, flattenSettings(v, key));
      else out[key] = v;
    }
  }
  return out;
}

export interface SimClusterState {
  nodes: Array<{ id: string; name: string; hostname: string; decommission?: unknown }> | null;
  transient: Record<string, unknown>;
  persistent: Record<string, unknown>;
  health: string;
  history: Array<{ time: string; what: string }> | null;
}

export const simState = (cluster: string) => sim<SimClusterState>('GET', `/clusters/${cluster}`);

/** The allocation setting this tool restricts, at either level (undefined when reset). */
export async function allocationSetting(cluster: string): Promise<unknown> {
  const s = await simState(cluster);
  const key = 'cluster.routing.allocation.enable';
  return flattenSettings(s.transient)[key] ?? flattenSettings(s.persistent)[key];
}

/** How many times each node got a DECOMMISSION that the simulator acted on (its history). */
export async function decommissionsPerNode(cluster: string): Promise<Record<string, number>> {
  const s = await simState(cluster);
  const out: Record<string, number> = {};
  for (const e of s.history ?? []) {
    const m = /^decommission of (\S+) started/.exec(e.what);
    if (m) out[m[1]!] = (out[m[1]!] ?? 0) + 1;
  }
  return out;
}

export async function invariants(
  cluster: string,
): Promise<{ ok: boolean; unintended: number; violations: unknown[] | null }> {
  return sim('GET', `/clusters/${cluster}/invariants`);
}

/** Names of the pods of a StatefulSet, by ordinal. */
export const podNames = (sts: string, replicas = 3) => Array.from({ length: replicas }, (_, i) => `${sts}-${i}`);

/** Suite timing, printed by the global teardown. */
export function elapsed(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

/** The plugin, which must exit 0. */
export async function pluginOk(args: string[]): Promise<string> {
  const r = await plugin(args);
  if (r.code !== 0) throw new Error(`plugin ${args.join(' ')} failed (${r.code}): ${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Start the plugin; `done` resolves with its exit code and output. */
export function pluginStart(args: string[]): {
  pid: number | undefined;
  done: Promise<RunResult>;
  output: () => string;
} {
  const child = pluginSpawn(args);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<RunResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (process.env.E2E_VERBOSE === '1')
        process.stderr.write(`--- plugin ${args.join(' ')} -> ${code}\n${stdout}${stderr}\n`);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
  });
  return { pid: child.pid, done, output: () => stdout + stderr };
}

export interface LeaseView {
  name: string;
  holder: string | null;
  operationId: string | null;
  progress: { done?: Record<string, string>; current?: { pod: string; step: string } | null } | null;
}

/** The engine's Lease(s) in a namespace. */
export async function leases(namespace: string): Promise<LeaseView[]> {
  const list = await kubectlJson(['get', 'leases', '-n', namespace]);
  return list.items.map((l: any) => {
    const a = l.metadata.annotations ?? {};
    let progress;
    try {
      progress = a['crate-decommission.crate.io/progress']
        ? JSON.parse(a['crate-decommission.crate.io/progress'])
        : null;
    } catch {
      progress = null;
    }
    return {
      name: l.metadata.name,
      holder: l.spec?.holderIdentity || null,
      operationId: a['crate-decommission.crate.io/operation-id'] ?? null,
      progress,
    };
  });
}
