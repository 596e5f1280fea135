// krew/crate-decommission.yaml (the template) and scripts/krew-manifest.mjs (fills uri + sha256 from archives).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import pkg from '../../../package.json' with { type: 'json' };

const root = join(import.meta.dirname, '..', '..', '..');
const node = process.execPath;
const PLATFORMS = [
  ['linux', 'amd64'],
  ['linux', 'arm64'],
  ['darwin', 'amd64'],
  ['darwin', 'arm64'],
  ['windows', 'amd64'],
  ['windows', 'arm64'],
] as const;

interface KrewPlatform {
  selector: { matchLabels: { os: string; arch: string } };
  uri: string;
  sha256: string;
  files: Array<{ from: string; to: string }>;
  bin: string;
}
interface KrewPlugin {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: {
    version: string;
    homepage: string;
    shortDescription: string;
    description: string;
    caveats?: string;
    platforms: KrewPlatform[];
  };
}

function checkShape(m: KrewPlugin, version: string): void {
  expect(m.apiVersion).toBe('krew.googlecontainertools.github.com/v1alpha2');
  expect(m.kind).toBe('Plugin');
  expect(m.metadata.name).toBe('crate-decommission'); // `kubectl krew install crate-decommission`
  expect(m.spec.version).toBe(version);
  expect(m.spec.version).toMatch(/^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
  expect(m.spec.homepage).toMatch(/^https:\/\//);
  expect(m.spec.shortDescription.length).toBeGreaterThan(10);
  expect(m.spec.shortDescription.length).toBeLessThanOrEqual(60);
  expect(m.spec.description.length).toBeGreaterThan(100);
  // krew guidelines: describe what it does, no command lists / usage.
  expect(m.spec.description).not.toMatch(/^\s*kubectl crate-decommission /m);
  expect(m.spec.description).not.toMatch(/^\s*[-*] /m);
  expect(m.spec.caveats).toBeTruthy();
  for (const p of m.spec.platforms) {
    const { os, arch } = p.selector.matchLabels;
    const exe = os === 'windows' ? 'kubectl-crate_decommission.exe' : 'kubectl-crate_decommission';
    expect(p.bin).toBe(exe);
    expect(p.files).toEqual([
      { from: exe, to: '.' },
      { from: 'LICENSE', to: '.' },
    ]);
    expect(p.uri).toMatch(
      new RegExp(`/kubectl-crate_decommission_${version}_${os}_${arch}\\.${os === 'windows' ? 'zip' : 'tar\\.gz'}$`),
    );
    expect(p.sha256).toMatch(/^[0-9a-f]{64}$/);
  }
}

describe('krew/crate-decommission.yaml (template)', () => {
  const m = parse(readFileSync(join(root, 'krew', 'crate-decommission.yaml'), 'utf8')) as KrewPlugin;

  it('is a krew v1alpha2 Plugin for this version with all six platforms', () => {
    checkShape(m, `v${pkg.version}`);
    expect(m.spec.platforms.map((p) => [p.selector.matchLabels.os, p.selector.matchLabels.arch])).toEqual(PLATFORMS);
  });
});

describe('scripts/krew-manifest.mjs', () => {
  let dir = '';
  const version = 'v9.8.7';
  const archive = (os: string, arch: string) =>
    join(dir, `kubectl-crate_decommission_${version}_${os}_${arch}.${os === 'windows' ? 'zip' : 'tar.gz'}`);

  function makeArchives(skipLicenseFor?: string): void {
    const files = PLATFORMS.map(([os, arch]) => ({
      dest: archive(os, arch),
      exe: os === 'windows' ? 'kubectl-crate_decommission.exe' : 'kubectl-crate_decommission',
      license: `${os}/${arch}` !== skipLicenseFor,
      body: `fake binary for ${os}/${arch}\n`,
    }));
    writeFileSync(join(dir, 'spec.json'), JSON.stringify(files));
    const script = `
      import { writeArchive } from ${JSON.stringify(join(root, 'scripts', 'release-archive.mjs'))};
      import { readFileSync, writeFileSync } from 'node:fs';
      const dir = ${JSON.stringify(dir)};
      for (const f of JSON.parse(readFileSync(dir + '/spec.json', 'utf8'))) {
        writeFileSync(dir + '/bin', f.body);
        const entries = [{ name: f.exe, path: dir + '/bin', mode: 0o755 }];
        if (f.license) entries.push({ name: 'LICENSE', path: ${JSON.stringify(join(root, 'LICENSE'))}, mode: 0o644 });
        writeArchive(f.dest, entries);
      }`;
    const r = spawnSync(node, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  }

  function runKrew(args: string[]) {
    return spawnSync(node, [join(root, 'scripts', 'krew-manifest.mjs'), ...args], { cwd: root, encoding: 'utf8' });
  }

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'crate-decommission-krew-'));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('fills uri and sha256 of every platform from the archives (--strict)', () => {
    makeArchives();
    const out = join(dir, 'plugin.yaml');
    const r = runKrew([
      '--archives',
      dir,
      '--version',
      version,
      '--base-url',
      'https://example.org/dl/',
      '--strict',
      '--out',
      out,
    ]);
    expect(r.status, r.stderr).toBe(0);
    const m = parse(readFileSync(out, 'utf8')) as KrewPlugin;
    checkShape(m, version);
    expect(m.spec.platforms).toHaveLength(6);
    for (const p of m.spec.platforms) {
      const { os, arch } = p.selector.matchLabels;
      const file = archive(os, arch);
      expect(p.uri).toBe(`https://example.org/dl/${file.slice(dir.length + 1)}`);
      expect(p.sha256).toBe(createHash('sha256').update(readFileSync(file)).digest('hex'));
    }
    // The template itself is untouched.
    expect(readFileSync(join(root, 'krew', 'crate-decommission.yaml'), 'utf8')).toContain(`version: v${pkg.version}`);
  });

  it('defaults the uri to the GitHub release of the version', () => {
    const r = runKrew(['--archives', dir, '--version', version]);
    expect(r.status, r.stderr).toBe(0);
    const m = parse(readFileSync(join(dir, 'crate-decommission.yaml'), 'utf8')) as KrewPlugin;
    expect(m.spec.platforms[0]!.uri).toBe(
      `https://github.com/crate/crate-decommission/releases/download/${version}/kubectl-crate_decommission_${version}_linux_amd64.tar.gz`,
    );
  });

  it('refuses an archive without the LICENSE', () => {
    makeArchives('darwin/arm64');
    const r = runKrew(['--archives', dir, '--version', version, '--out', join(dir, 'x.yaml')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/darwin_arm64\.tar\.gz lacks LICENSE/);
  });

  it('--strict refuses a missing platform; without it the platform is left out', () => {
    makeArchives();
    rmSync(archive('windows', 'arm64'));
    const strict = runKrew(['--archives', dir, '--version', version, '--strict', '--out', join(dir, 'x.yaml')]);
    expect(strict.status).toBe(1);
    expect(strict.stderr).toMatch(/missing archives/);
    const lenient = runKrew(['--archives', dir, '--version', version, '--out', join(dir, 'y.yaml')]);
    expect(lenient.status, lenient.stderr).toBe(0);
    const m = parse(readFileSync(join(dir, 'y.yaml'), 'utf8')) as KrewPlugin;
    expect(m.spec.platforms.map((p) => `${p.selector.matchLabels.os}/${p.selector.matchLabels.arch}`)).not.toContain(
      'windows/arm64',
    );
    expect(m.spec.platforms).toHaveLength(5);
  });

  it('rejects a version that is not v-prefixed semver, and an empty directory', () => {
    expect(runKrew(['--archives', dir, '--version', '1.2.3']).status).toBe(1);
    const empty = mkdtempSync(join(tmpdir(), 'crate-decommission-krew-empty-'));
    try {
      const r = runKrew(['--archives', empty, '--version', version]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/no archive/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
