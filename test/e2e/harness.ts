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
export const PLUGIN = `${REPO}/dist/kubectl-crate_decommission.mjs`;
/** Runner image: the process kubelet maps it to `node dist/runner.mjs` (test/cluster/images.json). */
export const RUNNER_IMAGE = 'ghcr.io/crate/crate-decommission:e2e';

let kubectlBin: string | undefined;
/** kubectl built with the control plane (same pinned version). */
export function kubectlPath(): string {
  if (kubectlBin) return kubectlBin;
  const bin = execFileSync(`${REPO}/test/cluster/build-controlplane`, [], { encoding: 'utf8' }).trim().split('\n').pop()!;
  kubectlBin = path.join(bin, 'kubectl');
  return kubectlBin;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
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
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
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
export function pluginSpawn(args: string[]) {
  return spawn(NODE, [PLUGIN, ...args], { cwd: REPO, env: { ...process.env, KUBECONFIG, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
}

export async function clusterReady(): Promise<boolean> {
  try {
    const r = await new Promise<number>((resolve) => {
      execFile(kubectlPath(), ['--kubeconfig', KUBECONFIG, 'get', '--raw', '/readyz'], { timeout: 10_000 }, (err) => resolve(err ? 1 : 0));
    });
    if (r !== 0) return false;
    const nodes = JSON.parse(execFileSync(kubectlPath(), ['--kubeconfig', KUBECONFIG, 'get', 'nodes', '-o', 'json'], { encoding: 'utf8' }));
    const ready = nodes.items.some((n: any) => n.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'));
    return ready && (await sim('GET', '/healthz').then(() => true, () => false));
  } catch {
    return false;
  }
}

/** The CrateDB simulator's control API (HTTP over its unix socket). */
export function sim<T = any>(method: string, urlPath: string, body?: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: `${CDK_STATE}/crate-sim.sock`, path: urlPath, method, headers: { 'content-type': 'application/json' } }, (res) => {
      let data = '';
      res.on('data', (d: Buffer) => (data += d.toString()));
      res.on('end', () => {
        if ((res.statusCode ?? 500) >= 400) reject(new Error(`sim ${method} ${urlPath}: ${res.statusCode} ${data}`));
        else resolve(data ? (JSON.parse(data) as T) : (undefined as T));
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.write(JSON.stringify(body));
    req.end();
  });
}

/** Poll a condition with a deadline (the cluster's own state changes; this is the test observing it). */
export async function eventually<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 120_000, everyMs = 250): Promise<T> {
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
