// esbuild options of `npm run build` (scripts/build.mjs), shared with the tests that check the output.
//
// The plugin (dist/kubectl-crate_decommission.mjs, package.json `bin`) is split: what every command needs is in
// the entry file; what only some commands need (@kubernetes/client-node, undici, listr2, the engine) is in
// dist/chunks/, loaded by dynamic import() when a command gets there. `--help`, completion, bad input and
// `plan -f` never load those chunks. The runner (dist/runner.mjs, the image's entrypoint) stays one file.
// The single executable (scripts/build-binary.mjs) bundles the plugin into ONE file of its own.

const common = {
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  sourcemap: 'linked',
  logLevel: 'warning',
};
// Some CommonJS dependencies call require(); give every ESM output file one.
const requireShim = "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);";

/** The plugin: entry `<outdir>/kubectl-crate_decommission.mjs`, lazily loaded chunks in `<outdir>/chunks/`. */
export function pluginBuildOptions(outdir = 'dist') {
  return {
    ...common,
    entryPoints: { 'kubectl-crate_decommission': 'plugin/main.ts' },
    outdir,
    splitting: true,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    metafile: true,
    // The Temporal SDK (worker, rollout --temporal) carries a native core bridge and webpack: it stays an npm
    // dependency, imported at run time from node_modules (docs/temporal.md).
    external: ['@temporalio/*'],
    // The shebang lands in the chunks too, where it is a harmless comment (hashbang grammar).
    banner: { js: `#!/usr/bin/env node\n${requireShim}` },
  };
}

/** The runner: one self-contained file. */
export function runnerBuildOptions(outfile = 'dist/runner.mjs') {
  return { ...common, entryPoints: ['runner/main.ts'], outfile, banner: { js: requireShim } };
}
