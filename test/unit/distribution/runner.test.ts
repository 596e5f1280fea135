// The image runs `node /app/runner.mjs`, copied from dist/lib/runner.mjs (see dockerfile.test.ts): build that
// artefact with the project build and run it through Node 24, as the image does.
import { spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

const root = join(import.meta.dirname, '..', '..', '..');
const node24 = join(root, 'node_modules', 'node', 'bin', 'node');
/** The Node flags of the Dockerfile's ENTRYPOINT (between node and the script). */
const imageNodeFlags = () =>
  (JSON.parse(/^ENTRYPOINT (.*)$/m.exec(readFileSync(join(root, 'Dockerfile'), 'utf8'))![1]!) as string[]).slice(1, -1);
describe('runner image entrypoint (dist/lib/runner.mjs)', () => {
  it('has Node 24 from npm ci (node_modules/node)', () => {
    expect(existsSync(node24), `${node24} is missing: run npm ci`).toBe(true);
  });

  const artefact = join(root, 'dist', 'lib', 'runner.mjs');

  beforeAll(() => {
    const r = spawnSync(node24, ['scripts/build.mjs'], { cwd: root, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`npm run build failed:\n${r.stderr}`);
  }, 120_000);

  it('exists with its source map', () => {
    expect(statSync(artefact).size).toBeGreaterThan(0);
    expect(existsSync(`${artefact}.map`)).toBe(true);
  });

  it('is minified and ASCII only: V8 keeps its source as Latin-1, not UTF-16 (issue 9 item 2, runner memory)', () => {
    const code = readFileSync(artefact, 'utf8');
    // eslint-disable-next-line no-control-regex -- the ASCII range starts at NUL on purpose
    expect(code.search(/[^\x00-\x7f]/)).toBe(-1);
    expect(code.length).toBeLessThan(5e6); // 9.7 MB unminified
    const map = JSON.parse(readFileSync(`${artefact}.map`, 'utf8')) as { sourcesContent?: unknown };
    expect(map.sourcesContent).toBeUndefined();
  });

  it("holds none of client-node's generated API classes, models or serializer (issue 9 item 2, runner memory)", () => {
    // keepNames leaves every class name in the bundle as a string: the port's plain JSON requests need none of them;
    // KubeConfig, Watch and Exec (which the runner uses) stay.
    const code = readFileSync(artefact, 'utf8');
    for (const name of ['CoreV1Api', 'AppsV1Api', 'CoordinationV1Api', 'ObjectSerializer', 'V1Pod', 'V1PodSpec'])
      expect(code, name).not.toContain(`"${name}"`);
    for (const name of ['KubeConfig', 'Watch', 'Exec']) expect(code, name).toContain(`"${name}"`);
    expect(code.length).toBeLessThan(2.5e6); // 3.4 MB with them
  });

  // Run as the image does (node /app/runner.mjs), from / with nothing but the bundle: no node_modules.
  const runArtefact = (args: string[]) =>
    spawnSync(node24, [artefact, ...args], {
      cwd: '/',
      encoding: 'utf8',
      env: { PATH: '/usr/bin:/bin', NODE_PATH: '' },
      timeout: 30_000,
    });

  it('starts under Node 24 and answers a missing operation with exit 2 and a JSON log line', () => {
    const r = runArtefact([]);
    expect(r.status, r.stderr).toBe(2);
    const lines = `${r.stdout}${r.stderr}`.trim().split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(0);
    const last = JSON.parse(lines.at(-1)!) as { level?: string; msg?: string; errorKind?: string };
    expect(last.level).toBe('error');
    expect(last.errorKind).toBe('bad_input');
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/Cannot find (module|package)/);
  });

  it('--help and --version answer with exit 0', () => {
    const help = runArtefact(['--help']);
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^crate-decommission-runner <operation>/);
    const version = runArtefact(['--version']);
    expect(version.status, version.stderr).toBe(0);
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);
  });

  it('an unknown operation is bad input too (exit 2), before anything touches a cluster', () => {
    const r = runArtefact(['no-such-operation', 'statefulset/x', '--namespace', 'default']);
    expect(r.status, r.stderr).toBe(2);
  });

  it("the ENTRYPOINT's V8 flags keep WebAssembly, which undici's HTTP parser needs (no --jitless, no --lite-mode)", async () => {
    // The flags turn the optimizing compilers off (issue 9 item 2, runner memory), not the baseline ones: a fetch
    // through Node's own undici (the same llhttp wasm parser the bundle carries) still parses HTTP responses.
    const flags = imageNodeFlags();
    expect(flags).toEqual(expect.arrayContaining(['--no-maglev', '--no-turbofan', '--no-wasm-dynamic-tiering']));
    const { createServer } = await import('node:http');
    const server = createServer((_req, res) => res.end('{"kind":"Status"}'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as { port: number };
      const code = `const r = await fetch('http://127.0.0.1:${port}/'); console.log(typeof WebAssembly, (await r.json()).kind);`;
      const r = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(node24, [...flags, '--input-type=module', '-e', code], { env: { PATH: '/usr/bin:/bin' } });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('close', (status) => resolve({ status, stdout, stderr }));
      });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe('object Status');
    } finally {
      server.close();
    }
  });

  it("does not load Node's own copy of undici (node:http imported as CommonJS, scripts/build-options.mjs)", () => {
    // An ESM import of node:http reads its lazy WebSocket getter, which loads internal/deps/undici (issue 9 item 2).
    const dir = mkdtempSync(join(tmpdir(), 'runner-modules-'));
    try {
      const probe = join(dir, 'probe.cjs');
      writeFileSync(
        probe,
        "process.on('exit', () => process._rawDebug('internal undici: ' + process.moduleLoadList.some((m) => m.includes('deps/undici'))));",
      );
      const r = spawnSync(node24, ['-r', probe, artefact, 'no-such-operation', 'statefulset/x'], {
        cwd: '/',
        encoding: 'utf8',
        env: { PATH: '/usr/bin:/bin' },
        timeout: 30_000,
      });
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toContain('internal undici: false');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('uses the V8 code cache the image writes at build time (Dockerfile: NODE_COMPILE_CACHE, `runner.mjs --version`)', () => {
    // As the image: the bundle at a fixed path, a warm-up run with the ENTRYPOINT's flags writes the cache, a later
    // run with the same flags finds it, V8 accepts it, and nothing is written again (the Job's root is read-only).
    const flags = imageNodeFlags();
    const dir = mkdtempSync(join(tmpdir(), 'runner-cache-'));
    try {
      copyFileSync(artefact, join(dir, 'runner.mjs'));
      const env = { PATH: '/usr/bin:/bin', NODE_COMPILE_CACHE: join(dir, 'compile-cache') };
      const run = (args: string[], extra: Record<string, string> = {}) =>
        spawnSync(node24, [...flags, join(dir, 'runner.mjs'), ...args], {
          cwd: '/',
          encoding: 'utf8',
          env: { ...env, ...extra },
          timeout: 30_000,
        });
      const warm = run(['--version']);
      expect(warm.status, warm.stderr).toBe(0);
      const entries = readdirSync(join(dir, 'compile-cache'), { recursive: true, withFileTypes: true }).filter((e) =>
        e.isFile(),
      );
      expect(entries).toHaveLength(1);
      const r = run(['no-such-operation', 'statefulset/x'], { NODE_DEBUG_NATIVE: 'COMPILE_CACHE' });
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/V8 code cache for ESM \S+runner\.mjs was accepted/);
      expect(r.stderr).toMatch(/skip persisting ESM \S+runner\.mjs because cache was the same/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("accepts the example Job's args (manifests/examples/job.yaml): only the missing in-cluster config stops it", () => {
    const docs = parseAllDocuments(readFileSync(join(root, 'manifests', 'examples', 'job.yaml'), 'utf8')).map((d) =>
      d.toJS(),
    );
    const job = docs.find((d) => d?.kind === 'Job') as {
      spec: { template: { spec: { containers: Array<{ args: string[] }> } } };
    };
    const args = job.spec.template.spec.containers[0]!.args;
    const r = runArtefact(args);
    const msg = `${r.stdout}${r.stderr}`;
    expect(msg).toMatch(/in-cluster|KUBERNETES_SERVICE_HOST/i);
  });
});
