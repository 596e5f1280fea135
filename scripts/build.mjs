// Bundles the plugin and the runner into dist/ with esbuild (one file each).
import { build } from 'esbuild';
import { chmod, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';

await mkdir('dist', { recursive: true });
const common = {
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  sourcemap: 'linked',
  logLevel: 'warning',
  // Some CommonJS dependencies call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
};
const entries = [
  ['plugin/main.ts', 'dist/kubectl-crate_decommission.mjs', true],
  ['runner/main.ts', 'dist/runner.mjs', false],
];
for (const [entry, outfile, executable] of entries) {
  if (!existsSync(entry)) continue;
  await build({
    ...common,
    entryPoints: [entry],
    outfile,
    banner: { js: (executable ? '#!/usr/bin/env node\n' : '') + common.banner.js },
  });
  if (executable) await chmod(outfile, 0o755);
}
