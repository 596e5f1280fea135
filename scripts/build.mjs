// Bundles the plugin (dist/lib/kubectl-crate_decommission.mjs + dist/lib/chunks/) and the runner
// (dist/lib/runner.mjs, one file) with esbuild; the options and the why are in scripts/build-options.mjs.
//
// dist/ itself holds only executables meant for kubectl: the single executable `kubectl-crate_decommission` and the
// completion helper `kubectl_complete-crate_decommission` (both written by `npm run build:binary`). The README's
// install puts dist/ on PATH, and `kubectl plugin list` treats every `kubectl-*` file there as a plugin, so bundles
// and source maps live in dist/lib/. Files of the old layout (dist/*.mjs, dist/chunks/) are removed.
//
//   node scripts/build.mjs [--outdir DIR]    (default dist)
import { build } from 'esbuild';
import { chmod, mkdir, readdir, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildDefines, pluginBuildOptions, runnerBuildOptions } from './build-options.mjs';

const { values: opt } = parseArgs({ options: { outdir: { type: 'string', default: 'dist' } }, strict: true });
const dist = opt.outdir;
const lib = join(dist, 'lib');
await mkdir(lib, { recursive: true });
const define = buildDefines();
if (existsSync('plugin/main.ts')) {
  const { metafile } = await build({ ...pluginBuildOptions(lib), define });
  await chmod(join(lib, 'kubectl-crate_decommission.mjs'), 0o755);
  // Drop chunks of earlier builds (after writing, so a running plugin never misses a current one).
  const current = new Set(Object.keys(metafile.outputs).map((p) => basename(p)));
  const chunks = join(lib, 'chunks');
  for (const f of existsSync(chunks) ? await readdir(chunks) : []) {
    if (!current.has(f)) await rm(join(chunks, f), { force: true });
  }
}
if (existsSync('runner/main.ts')) await build({ ...runnerBuildOptions(join(lib, 'runner.mjs')), define });
// The Temporal workflow bundle (webpack, ~7 s): only when a workflow source is newer than the bundle. Next to the
// bundles that load it (shared/temporal/worker.ts looks in ../temporal and ./temporal of its module): dist/lib/.
// The runner image's build context (Dockerfile, .dockerignore) has no workflow build script: the runner does not use it.
if (
  existsSync('shared/temporal/workflows/index.ts') &&
  existsSync(new URL('./build-temporal-workflows.mjs', import.meta.url))
) {
  const { buildWorkflowBundle } = await import('./build-temporal-workflows.mjs');
  await buildWorkflowBundle(join(lib, 'temporal', 'workflows.js'));
}
// The layout before dist/lib/: these made `kubectl plugin list` fail.
for (const old of [
  'kubectl-crate_decommission.mjs',
  'kubectl-crate_decommission.mjs.map',
  'runner.mjs',
  'runner.mjs.map',
  'chunks',
  'demo-path',
  'sea',
  'temporal',
]) {
  await rm(join(dist, old), { recursive: true, force: true });
}
