// esbuild options of `npm run build` (scripts/build.mjs), shared with the tests that check the output.
//
// The plugin (dist/lib/kubectl-crate_decommission.mjs, package.json `bin`) is split: what every command needs is in
// the entry file; what only some commands need (@kubernetes/client-node, undici, listr2, the engine) is in
// dist/lib/chunks/, loaded by dynamic import() when a command gets there. `--help`, completion, bad input and
// `plan -f` never load those chunks. The runner (dist/lib/runner.mjs, the image's entrypoint) stays one file.
// The single executable (scripts/build-binary.mjs) bundles the plugin into ONE file of its own.

import { execFileSync } from 'node:child_process';

/**
 * Build-time constants (`version` shows them): the git commit of the sources, `-dirty` when they differ from it.
 * `BUILD_COMMIT` in the environment wins (the Dockerfile's build has no .git); otherwise "unknown".
 */
export function buildDefines(cwd = process.cwd()) {
  return { __BUILD_COMMIT__: JSON.stringify(buildCommit(cwd)) };
}

export function buildCommit(cwd = process.cwd()) {
  if (process.env.BUILD_COMMIT) return process.env.BUILD_COMMIT;
  try {
    const git = (args) =>
      execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const head = git(['rev-parse', '--short=12', 'HEAD']);
    return git(['status', '--porcelain', '--untracked-files=no']) ? `${head}-dirty` : head;
  } catch {
    return 'unknown';
  }
}

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

/**
 * `import ... from 'node:http'` in an ES module makes Node build the builtin's ES module namespace, which reads every
 * export; node:http's lazy `WebSocket`, `CloseEvent` and `MessageEvent` getters then load Node's own copy of undici
 * (745 KB of source; issue 9 item 2, runner memory: the runner's load floor 74.3 -> 72.5 MiB without it, measured
 * with `/usr/bin/time`). Every import of node:http resolves to a CommonJS module that require()s it, so those getters
 * run only if something reads them. The other builtins showed no such cost.
 */
export const httpAsCommonJs = {
  name: 'http-as-commonjs',
  setup(build) {
    // Not for import(): with splitting, a dynamic import of the CommonJS module would yield only a default export.
    build.onResolve({ filter: /^(node:)?http$/ }, (args) =>
      args.namespace === 'http-as-commonjs' || args.kind === 'dynamic-import'
        ? { path: 'node:http', external: true }
        : { path: 'node:http', namespace: 'http-as-commonjs' },
    );
    build.onLoad({ filter: /.*/, namespace: 'http-as-commonjs' }, () => ({
      contents: "module.exports = require('node:http');",
      loader: 'js',
    }));
  },
};

/** The plugin: entry `<outdir>/kubectl-crate_decommission.mjs`, lazily loaded chunks in `<outdir>/chunks/`. */
export function pluginBuildOptions(outdir = 'dist/lib') {
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
    plugins: [httpAsCommonJs],
  };
}

/**
 * client-node declares no `sideEffects` in its package.json, and its generated models end in top-level assignments
 * (`V1Pod.attributeTypeMap = ...`), so esbuild keeps every module of it the bundle reaches, used or not: reaching its
 * index (plugin-kube.ts, exported by shared/adapters/index.ts for the plugin) kept its ~60 API classes and ~900 models
 * in the runner, which uses none of them (shared/adapters/kube.ts sends plain JSON). Marked free of side effects
 * (they are: class declarations, static assignments, re-exports), only what the runner calls stays (issue 9 item 2,
 * runner peak RSS). Not its polyfill (a `File` global for Node 18), the one module of it that is there for its effect.
 */
export const clientNodeSideEffectFree = {
  name: 'client-node-side-effect-free',
  setup(build) {
    build.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData === 'client-node' || !/client-node/.test(args.importer + args.path)) return undefined;
      const r = await build.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: 'client-node',
      });
      const inClientNode = /[\\/]@kubernetes[\\/]client-node[\\/]dist[\\/]/.test(r.path);
      if (r.errors.length > 0 || !inClientNode || /[\\/]polyfill\.js$/.test(r.path)) return r;
      return { ...r, sideEffects: false };
    });
  },
};

/**
 * The runner: one self-contained file, minified (issue 9 item 2, runner peak RSS): V8 keeps a script's whole source
 * in memory, as UTF-16 when one character is not Latin-1 (the unminified bundle's comments had some: 9.7 MB of source
 * became 19.5 MB), so the minified, ASCII-only 3.3 MB saves about 15 MiB of the runner's memory. `keepNames` keeps
 * class and function names in stack traces and error kinds. The source map (linked, for `node --enable-source-maps`
 * when a stack trace must be read) carries no `sourcesContent`: the image's ENTRYPOINT does not parse it (Dockerfile).
 */
export function runnerBuildOptions(outfile = 'dist/lib/runner.mjs') {
  return {
    ...common,
    entryPoints: ['runner/main.ts'],
    outfile,
    minify: true,
    keepNames: true,
    sourcesContent: false,
    charset: 'ascii',
    // As in the single executable (scripts/build-binary.mjs): a legal comment at the end of the file (one has an
    // "ä") would make the whole source UTF-16 again.
    legalComments: 'none',
    banner: { js: requireShim },
    plugins: [clientNodeSideEffectFree, httpAsCommonJs],
  };
}

/**
 * The completion helper written next to the single executable (scripts/build-binary.mjs): what
 * `kubectl crate-decommission completion` prints (plugin/commands/completion.ts COMPLETION_SCRIPT; a unit test keeps
 * the two equal).
 */
export const COMPLETION_HELPER = `#!/usr/bin/env sh
# kubectl calls this to complete "kubectl crate-decommission ..." (kubectl >= 1.26).
exec kubectl-crate_decommission __complete "$@"
`;
