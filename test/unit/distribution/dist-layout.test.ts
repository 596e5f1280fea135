// The README's install puts dist/ on PATH, and `kubectl plugin list` takes every `kubectl-*` file there for a
// plugin (issue 13: the .mjs bundle and its map made it exit 1). So `npm run build` writes everything into
// dist/lib/, removes files of the old layout, and dist/ itself holds only what build:binary writes: the plugin
// executable and the completion helper (checked in binary.test.ts; the real `kubectl plugin list` runs in
// test/e2e/plugin-list.e2e.ts).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pkg from '../../../package.json' with { type: 'json' };

const root = join(import.meta.dirname, '..', '..', '..');
const node24 = join(root, 'node_modules', 'node', 'bin', 'node');

describe('dist/ layout of npm run build', () => {
  const out = mkdtempSync(join(tmpdir(), 'cd-dist-'));
  beforeAll(() => {
    // What an earlier build left behind: must go.
    writeFileSync(join(out, 'kubectl-crate_decommission.mjs'), '');
    writeFileSync(join(out, 'kubectl-crate_decommission.mjs.map'), '');
    mkdirSync(join(out, 'chunks'));
    const r = spawnSync(node24, ['scripts/build.mjs', '--outdir', out], { cwd: root, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`build failed:\n${r.stderr}`);
  }, 120_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('dist/ holds no kubectl-* file that is not a plugin executable (only lib/ after npm run build)', () => {
    expect(readdirSync(out)).toEqual(['lib']);
  });

  it('the bundles, chunks and maps are in dist/lib/', () => {
    const lib = readdirSync(join(out, 'lib')).sort();
    expect(lib).toEqual([
      'chunks',
      'kubectl-crate_decommission.mjs',
      'kubectl-crate_decommission.mjs.map',
      'runner.mjs',
      'runner.mjs.map',
      'temporal',
    ]);
    expect(statSync(join(out, 'lib', 'kubectl-crate_decommission.mjs')).mode & 0o111).not.toBe(0);
  });

  it('package.json bin points at dist/lib/', () => {
    expect(pkg.bin).toEqual({ 'kubectl-crate_decommission': 'dist/lib/kubectl-crate_decommission.mjs' });
  });

  it('the bundle runs from dist/lib/ and knows its build commit', () => {
    const r = spawnSync(node24, [join(out, 'lib', 'kubectl-crate_decommission.mjs'), 'version', '-o', 'json'], {
      encoding: 'utf8',
      env: { PATH: '/usr/bin:/bin' },
    });
    expect(r.status, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout) as { commit: string; plugin: string };
    expect(info.plugin).toBe(pkg.version);
    expect(info.commit).toMatch(/^[0-9a-f]{12}(-dirty)?$|^unknown$/);
    expect(info.commit).not.toBe('unknown'); // built from a git checkout
  });
});
