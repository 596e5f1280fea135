// No container engine runs here: check the Dockerfile's shape instead, and that what its final stage
// runs is what the build produces (runner.test.ts runs that artefact).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import pkg from '../../../package.json' with { type: 'json' };

const root = join(import.meta.dirname, '..', '..', '..');

interface Instruction {
  cmd: string;
  args: string;
}
interface Stage {
  from: string;
  name: string | null;
  instructions: Instruction[];
}

/** A small Dockerfile parser: line continuations, comments, stages. Enough for this one file. */
function parseDockerfile(text: string): Stage[] {
  const logical: string[] = [];
  let buf = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (buf === '' && /^\s*#/.test(line)) continue; // comment (or parser directive)
    if (buf !== '' && /^\s*#/.test(line)) continue; // comment inside a continuation
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
    const m = /^(\S+)\s*(.*)$/.exec(l)!;
    const cmd = m[1]!.toUpperCase();
    const args = m[2]!;
    if (cmd === 'FROM') {
      const f = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args)!;
      stages.push({ from: f[1]!, name: f[2] ?? null, instructions: [] });
    } else {
      stages.at(-1)?.instructions.push({ cmd, args });
    }
  }
  return stages;
}

describe('Dockerfile', () => {
  const text = readFileSync(join(root, 'Dockerfile'), 'utf8');
  const stages = parseDockerfile(text);
  const build = stages[0]!;
  const final = stages.at(-1)!;
  const all = (s: Stage, cmd: string) => s.instructions.filter((i) => i.cmd === cmd);

  it('is multi-stage: a node:24 build stage and a separate final stage', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(build.from).toMatch(/^node:24(-|$)/);
    expect(build.name).toBe('build');
    expect(final).not.toBe(build);
  });

  it('builds with npm ci and the project build script', () => {
    const runs = all(build, 'RUN')
      .map((r) => r.args)
      .join(' && ');
    expect(runs).toMatch(/npm ci\b/);
    expect(runs).toMatch(/node scripts\/build\.mjs|npm run build/);
  });

  it('final stage is small and runs as a non-root user', () => {
    expect(final.from).toMatch(/^(gcr\.io\/distroless\/nodejs24-debian1[23](:nonroot)?|node:24-slim)$/);
    const users = all(final, 'USER');
    expect(users.length).toBeGreaterThan(0);
    const user = users.at(-1)!.args.trim();
    const [uid] = user.split(':');
    expect(uid).not.toMatch(/^(0|root)$/);
    expect(Number(uid)).toBe(65532); // matches runAsUser of plugin/objects.ts
  });

  it('copies only the runner bundle (and its source map) from the build stage, and an empty compile-cache folder', () => {
    const fromBuild = all(final, 'COPY').filter((c) => c.args.includes('--from=build'));
    expect(fromBuild).toHaveLength(2);
    const parts = fromBuild[0]!.args.split(/\s+/).filter((p) => !p.startsWith('--'));
    const dest = parts.pop()!;
    expect(parts).toEqual(['/src/dist/lib/runner.mjs', '/src/dist/lib/runner.mjs.map']);
    expect(dest).toBe('/app/');
    // The folder the warm-up below writes into, owned by the runner's user (the build stage makes it, empty).
    expect(fromBuild[1]!.args).toBe('--from=build --chown=65532:65532 /src/compile-cache/ /app/compile-cache/');
    expect(all(build, 'RUN').at(-1)!.args).toMatch(/&& mkdir compile-cache$/);
    // distroless: no shell, so every RUN is exec form (a JSON array)
    for (const r of all(final, 'RUN')) expect(() => JSON.parse(r.args) as string[]).not.toThrow();
  });

  it("writes V8's code cache of runner.mjs as the runner's user, with the ENTRYPOINT's flags (issue 9 item 2)", () => {
    // Node's compile cache is keyed by path, content, Node version, V8 flags and uid: the warm-up must match the
    // ENTRYPOINT in all of them, or a run finds no entry (runner.test.ts checks that a matching run accepts it).
    const ep = JSON.parse(all(final, 'ENTRYPOINT')[0]!.args) as string[];
    const envs = all(final, 'ENV').map((e) => e.args);
    expect(envs).toContain('NODE_COMPILE_CACHE=/app/compile-cache');
    const runs = all(final, 'RUN');
    expect(runs).toHaveLength(1);
    expect(JSON.parse(runs[0]!.args)).toEqual([...ep, '--version']);
    const order = final.instructions.map((i) => i.cmd);
    expect(order.indexOf('USER')).toBeLessThan(order.indexOf('RUN'));
    expect(order.lastIndexOf('ENV')).toBeLessThan(order.indexOf('RUN'));
  });

  it('ENTRYPOINT is exec-form node on a file the build produces', () => {
    const eps = all(final, 'ENTRYPOINT');
    expect(eps).toHaveLength(1);
    const ep = JSON.parse(eps[0]!.args) as string[];
    expect(ep[0]).toMatch(/(^|\/)node$/);
    const script = ep.find((a) => a.endsWith('.mjs'));
    expect(script).toBe('/app/runner.mjs');
    // /app/runner.mjs <- /src/dist/lib/runner.mjs <- scripts/build.mjs's runner output (dist/lib, see build.mjs).
    const workdir = all(build, 'WORKDIR').at(-1)!.args;
    expect(workdir).toBe('/src');
    const buildScript = readFileSync(join(root, 'scripts', 'build.mjs'), 'utf8');
    expect(buildScript).toContain("runnerBuildOptions(join(lib, 'runner.mjs'))");
    expect(buildScript).toContain("const lib = join(dist, 'lib')");
    const options = readFileSync(join(root, 'scripts', 'build-options.mjs'), 'utf8');
    expect(options).toMatch(/entryPoints: \['runner\/main.ts'\],\s+outfile,/);
    expect(options).toMatch(/sourcemap: 'linked'/);
  });

  it("the test cluster runs the runner with the image's Node flags (test/cluster/images.json)", () => {
    const ep = JSON.parse(all(final, 'ENTRYPOINT')[0]!.args) as string[];
    const flags = ep.slice(1, -1);
    // The memory flags of issue 9 item 2 (docs/distribution.md): a small young generation, no source-map parsing.
    expect(flags).toContain('--max-semi-space-size=2');
    expect(flags).not.toContain('--enable-source-maps');
    const images = JSON.parse(readFileSync(join(root, 'test', 'cluster', 'images.json'), 'utf8')) as {
      images: Array<{ names: string[]; entrypoint: string[]; env?: Record<string, string> }>;
    };
    const runner = images.images.find((i) => i.names.includes('ghcr.io/crate/crate-decommission'))!;
    expect(runner.entrypoint[0]).toMatch(/\/node$/);
    expect(runner.entrypoint.at(-1)).toMatch(/\/runner\.mjs$/);
    expect(runner.entrypoint.slice(1, -1)).toEqual(flags);
    // and with its compile cache, written by test/cluster/load-runner-image at the path the kubelet runs
    expect(runner.env).toEqual({ NODE_COMPILE_CACHE: '$CDK_STATE/images/crate-decommission/compile-cache' });
    expect(readFileSync(join(root, 'test', 'cluster', 'load-runner-image'), 'utf8')).toMatch(
      /NODE_COMPILE_CACHE="\$image\/compile-cache" "\$image\/node" "\$\{flags\[@\]\}" "\$image\/runner\.mjs" --version/,
    );
  });

  it('copies every source folder the runner bundle is built from, and not the plugin', () => {
    const copies = all(build, 'COPY').map((c) => c.args);
    for (const dir of ['shared/', 'runner/']) expect(copies.some((c) => c.startsWith(`${dir} `))).toBe(true);
    // The runner depends on shared/ only (docs/architecture.md); the plugin's sources stay out of the image.
    expect(copies.some((c) => c.startsWith('plugin'))).toBe(false);
    expect(copies.some((c) => c.includes('scripts/build.mjs') && c.includes('scripts/build-options.mjs'))).toBe(true);
  });

  it('.dockerignore lets exactly those inputs into the context', () => {
    const ignore = readFileSync(join(root, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect(ignore[0]).toBe('*');
    const allowed = ignore.filter((l) => l.startsWith('!')).map((l) => l.slice(1));
    for (const p of [
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'scripts/build.mjs',
      'scripts/build-options.mjs',
      'shared',
      'runner',
      'LICENSE',
    ]) {
      expect(allowed).toContain(p);
    }
    expect(allowed).not.toContain('plugin');
    expect(ignore).toContain('**/node_modules');
  });

  it('that context alone builds the runner bundle, and the bundle runs', () => {
    // The build stage's view: only the allow-listed inputs (plus node_modules, which `npm ci` installs there).
    const allowed = readFileSync(join(root, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.startsWith('!'))
      .map((l) => l.slice(1));
    const ctx = mkdtempSync(join(tmpdir(), 'cd-image-ctx-'));
    try {
      for (const p of allowed)
        cpSync(join(root, p), join(ctx, p), { recursive: true, filter: (src) => !src.endsWith('.test.ts') });
      symlinkSync(join(root, 'node_modules'), join(ctx, 'node_modules'));
      const node24 = join(root, 'node_modules', 'node', 'bin', 'node');
      const b = spawnSync(node24, ['scripts/build.mjs'], {
        cwd: ctx,
        encoding: 'utf8',
        env: { ...process.env, BUILD_COMMIT: 'test' },
      });
      expect(b.status, b.stderr).toBe(0);
      expect(readdirSync(join(ctx, 'dist', 'lib')).sort()).toEqual(['runner.mjs', 'runner.mjs.map']);
      const r = spawnSync(node24, [join(ctx, 'dist', 'lib', 'runner.mjs'), '--version'], {
        encoding: 'utf8',
        env: { PATH: '/usr/bin:/bin' },
      });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe(pkg.version);
    } finally {
      rmSync(ctx, { recursive: true, force: true });
    }
  }, 120_000);

  it('ships the Apache-2.0 LICENSE', () => {
    expect(existsSync(join(root, 'LICENSE'))).toBe(true);
    const license = readFileSync(join(root, 'LICENSE'), 'utf8');
    expect(license).toContain('Apache License');
    expect(license).toContain('Version 2.0, January 2004');
    expect(license).toContain('END OF TERMS AND CONDITIONS');
    expect(text).toMatch(/COPY LICENSE \/app\/LICENSE/);
  });
});
