// Bundles the plugin (dist/kubectl-crate_decommission.mjs + dist/chunks/) and the runner (dist/runner.mjs, one
// file) with esbuild; the options and the why are in scripts/build-options.mjs.
import { build } from 'esbuild';
import { chmod, mkdir, readdir, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { pluginBuildOptions, runnerBuildOptions } from './build-options.mjs';

await mkdir('dist', { recursive: true });
if (existsSync('plugin/main.ts')) {
  const { metafile } = await build(pluginBuildOptions('dist'));
  await chmod('dist/kubectl-crate_decommission.mjs', 0o755);
  // Drop chunks of earlier builds (after writing, so a running plugin never misses a current one).
  const current = new Set(Object.keys(metafile.outputs).map((p) => basename(p)));
  for (const f of existsSync('dist/chunks') ? await readdir('dist/chunks') : []) {
    if (!current.has(f)) await rm(`dist/chunks/${f}`, { force: true });
  }
}
if (existsSync('runner/main.ts')) await build(runnerBuildOptions('dist/runner.mjs'));
// The Temporal workflow bundle (webpack, ~7 s): only when a workflow source is newer than the bundle.
if (existsSync('shared/temporal/workflows/index.ts')) {
  const { buildWorkflowBundle } = await import('./build-temporal-workflows.mjs');
  await buildWorkflowBundle('dist/temporal/workflows.js');
}
