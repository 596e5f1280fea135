// The plugin's start-up: `npm run build` splits dist/kubectl-crate_decommission.mjs so that @kubernetes/client-node,
// undici, listr2 and the engine load only when a command needs them (dynamic import at the point of use). Checked
// on the build graph, and by running the built plugin with those chunks deleted.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs build script without types
import { pluginBuildOptions } from '../../../scripts/build-options.mjs';

const root = join(import.meta.dirname, '..', '..', '..');
const node24 = join(root, 'node_modules', 'node', 'bin', 'node');
const HEAVY: Array<[string, RegExp]> = [
  ['@kubernetes/client-node', /node_modules\/@kubernetes\/client-node\//],
  ['undici', /node_modules\/undici\//],
  ['listr2', /node_modules\/listr2\//],
  ['the engine (shared/index.ts)', /^shared\/index\.ts$/],
];

describe('plugin start-up: heavy modules load lazily', () => {
  it('has Node 24 from npm ci (node_modules/node)', () => {
    expect(existsSync(node24), `${node24} is missing: run npm ci`).toBe(true);
  });

  const out = mkdtempSync(join(tmpdir(), 'cd-plugin-build-'));
  let metafile: Metafile;
  const entry = join(out, 'kubectl-crate_decommission.mjs');
  const run = (args: string[]) =>
    spawnSync(node24, [entry, ...args], {
      cwd: root,
      encoding: 'utf8',
      env: { PATH: '/usr/bin:/bin', KUBECONFIG: '/nonexistent' },
      timeout: 30_000,
    });

  beforeAll(async () => {
    const result = await build({
      ...(pluginBuildOptions(out) as object),
      metafile: true,
      absWorkingDir: root,
      logLevel: 'silent',
    });
    metafile = result.metafile!;
  }, 120_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  /** Output files reachable from the entry through static imports only. */
  const staticClosure = (): Set<string> => {
    const outputs = metafile.outputs;
    const entryKey = Object.keys(outputs).find((k) => k.endsWith('/kubectl-crate_decommission.mjs'))!;
    const seen = new Set([entryKey]);
    const queue = [entryKey];
    while (queue.length) {
      for (const i of outputs[queue.shift()!]!.imports) {
        if (i.kind === 'import-statement' && !i.external && !seen.has(i.path)) {
          seen.add(i.path);
          queue.push(i.path);
        }
      }
    }
    return seen;
  };
  const outputsHolding = (pattern: RegExp) =>
    Object.entries(metafile.outputs)
      .filter(([k, o]) => !k.endsWith('.map') && Object.keys(o.inputs).some((i) => pattern.test(i)))
      .map(([k]) => k);

  it.each(HEAVY)('%s is in a chunk the entry does not import statically', (_name, pattern) => {
    const holding = outputsHolding(pattern);
    expect(holding.length).toBeGreaterThan(0);
    const eager = staticClosure();
    expect(holding.filter((k) => eager.has(k))).toEqual([]);
  });

  it('a command that needs client-node still gets it (rbac install --dry-run -o yaml)', () => {
    const r = run(['rbac', 'install', '-n', 'crate', '--dry-run', '-o', 'yaml']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('kind: ServiceAccount');
  });

  describe('with the heavy chunks deleted', () => {
    beforeAll(() => {
      for (const [, pattern] of HEAVY)
        for (const k of outputsHolding(pattern)) rmSync(join(out, 'chunks', basename(k)), { force: true });
    });

    it('--help', () => {
      const r = run(['--help']);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^kubectl crate-decommission/);
    });

    it('completion and __complete', () => {
      expect(run(['completion']).status).toBe(0);
      expect(run(['__complete', 'roll']).stdout).toContain('rollout');
    });

    it('bad input: exit 2, one line', () => {
      const r = run(['restart', 'Bad_Pod']);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/^error: invalid pod name "Bad_Pod"/);
    });

    it('plan -f FILE -o json', () => {
      const r = run(['plan', '-f', 'test/unit/distribution/fixtures/statefulset.yaml', '-o', 'json']);
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).items[0]).toHaveProperty('strategy');
    });

    it('a command that needs the cluster fails for the missing chunk: the test really removed it', () => {
      const r = run(['health', 'sts/crate', '-n', 'crate']);
      expect(r.status).not.toBe(0);
      expect(`${r.stdout}${r.stderr}`).toMatch(/Cannot find module|ERR_MODULE_NOT_FOUND/);
    });
  });
});
