// The README's install, checked with the real kubectl (the test cluster's, same pinned version): `npm run build`
// and `npm run build:binary` into a fresh dist/, that dist/ alone on PATH, then `kubectl plugin list` must be clean
// (exit 0, the one plugin, no warnings) and `kubectl crate-decommission` must run through kubectl (issue 13).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, kubectlPath } from './harness.js';

const node24 = join(REPO, 'node_modules', 'node', 'bin', 'node');

describe('install from source: kubectl plugin list', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'cd-plugin-list-'));
  const dist = join(tmp, 'dist');
  let kubectl = '';
  const onPath = (args: string[]) =>
    spawnSync(kubectl, args, {
      encoding: 'utf8',
      env: { PATH: `${dist}:/usr/bin:/bin`, HOME: tmp, KUBECONFIG: join(tmp, 'none') },
      timeout: 60_000,
    });

  beforeAll(() => {
    kubectl = kubectlPath();
    for (const args of [
      ['scripts/build.mjs', '--outdir', dist],
      ['scripts/build-binary.mjs', '--out', join(dist, 'kubectl-crate_decommission'), '--work', join(tmp, 'work')],
    ]) {
      const r = spawnSync(node24, args, { cwd: REPO, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${args[0]} failed:\n${r.stderr}`);
    }
  }, 300_000);
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('lists exactly the one plugin and exits 0', () => {
    const r = onPath(['plugin', 'list']);
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    const listed = r.stdout.split('\n').filter((l) => l.startsWith('/'));
    expect(listed).toEqual([join(dist, 'kubectl-crate_decommission')]);
    expect(r.stderr).not.toMatch(/warning/i);
  });

  it('kubectl crate-decommission version runs the plugin', () => {
    const r = onPath(['crate-decommission', 'version', '-o', 'json']);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toHaveProperty('runnerImage');
  });

  it('kubectl crate-decommission with no arguments prints the usage, exit 0', () => {
    const r = onPath(['crate-decommission']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('kubectl crate-decommission <command> [flags]');
  });
});
