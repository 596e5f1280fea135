// The release workflow builds what krew/ and the docs promise: six platforms, archives with the
// LICENSE (build-binary --archive), a strict krew manifest, sums, and the image with the default tag.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEFAULT_IMAGE } from '../../../plugin/objects.js';
import { VERSION } from '../../../shared/task/index.js';

const root = join(import.meta.dirname, '..', '..', '..');
type Step = { uses?: string; run?: string; name?: string; with?: Record<string, unknown>; if?: string };
type Job = {
  'runs-on': string;
  needs?: string | string[];
  steps: Step[];
  permissions?: Record<string, string>;
  strategy?: { matrix: { include: Array<Record<string, unknown>> } };
};
const wf = parse(readFileSync(join(root, '.github', 'workflows', 'release.yml'), 'utf8')) as {
  on: { push: { tags: string[] } };
  permissions: Record<string, string>;
  env: Record<string, string>;
  jobs: Record<string, Job>;
};
const runs = (job: Job) => job.steps.map((s) => s.run ?? '').join('\n');

describe('.github/workflows/release.yml', () => {
  it('runs on v* tags with read-only default permissions', () => {
    expect(wf.on.push.tags).toEqual(['v*']);
    expect(wf.permissions).toEqual({ contents: 'read' });
  });

  it('tests before building anything', () => {
    expect(runs(wf.jobs.test!)).toMatch(/npm test/);
    expect(runs(wf.jobs.test!)).toMatch(/manifests -- --check/);
    expect(wf.jobs.binaries!.needs).toBe('test');
  });

  it('builds linux/darwin/windows x amd64/arm64 through build-binary with archives', () => {
    const include = wf.jobs.binaries!.strategy!.matrix.include;
    const pairs = include.map((m) => `${m.os}/${m.arch}`).sort();
    expect(pairs).toEqual([
      'darwin/amd64',
      'darwin/arm64',
      'linux/amd64',
      'linux/arm64',
      'windows/amd64',
      'windows/arm64',
    ]);
    for (const m of include) {
      const target = `${m.os === 'windows' ? 'win32' : m.os}-${m.arch === 'amd64' ? 'x64' : 'arm64'}`;
      expect(m.target).toBe(target);
      // macOS binaries are (ad-hoc) signed by build-binary, which needs codesign: a macOS runner.
      if (m.os === 'darwin') expect(m.runner).toMatch(/^macos/);
      expect(String(m.base)).toMatch(/^(npm:node(-bin)?-|dist:)/);
    }
    const build = runs(wf.jobs.binaries!);
    expect(build).toMatch(/node scripts\/build-binary\.mjs/);
    expect(build).toMatch(/--archive dist\/release/);
    expect(build).toMatch(/--version "\$GITHUB_REF_NAME"/);
    expect(build).toMatch(/sha256sum -c|shasum -a 256 -c/); // nodejs.org downloads are verified
  });

  it('publishes a release with the strict krew manifest and sha256 sums', () => {
    const rel = wf.jobs.release!;
    expect(rel.needs).toBe('binaries');
    expect(rel.permissions).toEqual({ contents: 'write' });
    const r = runs(rel);
    expect(r).toMatch(/npm run release:krew -- --archives dist\/release --version "\$GITHUB_REF_NAME" --strict/);
    expect(r).toMatch(/sha256sum .*> SHA256SUMS/);
    expect(r).toMatch(/gh release create/);
  });

  it('pushes the image under the name and tag the plugin uses by default', () => {
    expect(`${wf.env.IMAGE}:${VERSION}`).toBe(DEFAULT_IMAGE);
    const push = wf.jobs.image!.steps.find((s) => s.uses?.startsWith('docker/build-push-action'));
    expect(String(push?.with?.tags)).toContain('${{ env.IMAGE }}:${{ steps.tag.outputs.version }}');
    expect(runs(wf.jobs.image!)).toContain('${GITHUB_REF_NAME#v}');
    expect(wf.jobs.image!.permissions).toMatchObject({ packages: 'write' });
  });
});
