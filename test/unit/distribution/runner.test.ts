// The image runs `node /app/runner.mjs`, copied from dist/runner.mjs (see dockerfile.test.ts): build that
// artefact with the project build and run it through Node 24, as the image does.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..', '..');
const node24 = join(root, 'node_modules', 'node', 'bin', 'node');
const hasRunner = existsSync(join(root, 'runner', 'main.ts'));

describe.skipIf(!hasRunner || !existsSync(node24))('runner image entrypoint (dist/runner.mjs)', () => {
  const artefact = join(root, 'dist', 'runner.mjs');

  beforeAll(() => {
    const r = spawnSync(node24, ['scripts/build.mjs'], { cwd: root, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`npm run build failed:\n${r.stderr}`);
  }, 120_000);

  it('exists with its source map', () => {
    expect(statSync(artefact).size).toBeGreaterThan(0);
    expect(existsSync(`${artefact}.map`)).toBe(true);
  });

  it('--help exits 0 under Node 24 without node_modules on the module path', () => {
    const r = spawnSync(node24, [artefact, '--help'], {
      cwd: '/',
      encoding: 'utf8',
      env: { PATH: '/usr/bin:/bin', NODE_PATH: '' },
      timeout: 30_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(`${r.stdout}${r.stderr}`.length).toBeGreaterThan(0);
  });
});
