// The layer rules of docs/architecture.md, checked by `npm run test:layers` (part of `npm test`).
// Paths are relative to the folder depcruise runs in (the repository root; test/unit/layers/ runs the same rules on a
// small tree that breaks each of them, so none of them is vacuous).
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'runner-imports-plugin',
      comment:
        'The runner depends on shared/ only: what both front ends need lives in shared/task/ (the image holds no plugin code).',
      severity: 'error',
      from: { path: '^runner/' },
      to: { path: '^plugin/' },
    },
    {
      name: 'plugin-imports-runner',
      comment: 'The plugin depends on shared/ only (the runner argument grammar is shared/task/runner-args.ts).',
      severity: 'error',
      from: { path: '^plugin/' },
      to: { path: '^runner/' },
    },
    {
      name: 'engine-imports-front-end',
      comment: 'shared/ (engine, front-end contract, adapters) never imports a front end.',
      severity: 'error',
      from: { path: '^shared/' },
      to: { path: '^(plugin|runner)/' },
    },
    {
      name: 'engine-imports-task',
      comment:
        'The engine proper returns results and error kinds; the front-end contract (shared/task/: exit codes, flags, executeTask) sits above it.',
      severity: 'error',
      from: { path: '^shared/', pathNot: '^shared/task/' },
      to: { path: '^shared/task/' },
    },
    {
      name: 'imports-test',
      comment: 'Production code, scripts and manifests never reach into test/ (bench/ may use its fakes).',
      severity: 'error',
      from: { pathNot: '^(test|bench)/' },
      to: { path: '^test/' },
    },
    {
      name: 'bench-imports-test-unit',
      comment:
        'bench/ uses the fakes and the virtual clock from test/support/ (shared by test/ and bench/), never the unit tests in test/unit/.',
      severity: 'error',
      from: { path: '^bench/' },
      to: { path: '^test/unit/' },
    },
    {
      name: 'kubernetes-client-outside-adapters',
      comment:
        'Only shared/adapters/ uses @kubernetes/client-node and undici at run time; elsewhere `import type` only (tests may use them to drive the adapters).',
      severity: 'error',
      from: { path: '^(plugin|runner|shared|scripts)/', pathNot: '^shared/adapters/' },
      to: { path: 'node_modules/(@kubernetes/client-node|undici)/', dependencyTypesNot: ['type-only', 'type-import'] },
    },
    {
      name: 'front-end-bypasses-index',
      comment:
        "A front end imports shared/ only through a folder's index.ts (shared/task/index.ts, shared/adapters/index.ts, shared/detect/index.ts, ...), the engine's shared/index.ts, or the Temporal worker's own entry shared/temporal/worker.ts.",
      severity: 'error',
      from: { path: '^(plugin|runner)/' },
      to: { path: '^shared/', pathNot: '^shared/(index|[^/]+/index|temporal/worker)\\.ts$' },
    },
    {
      name: 'engine-loaded-eagerly',
      comment:
        'The engine (shared/index.ts) loads lazily: a front end imports it with import() or `import type` only, so --help, completion and bad input never load it.',
      severity: 'error',
      from: { path: '^(plugin|runner)/' },
      to: {
        path: '^shared/(index|temporal/worker)\\.ts$',
        dependencyTypesNot: ['type-only', 'type-import', 'dynamic-import'],
      },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // `import type` is a dependency of its own kind (type-only), so the rules above can tell it from a value import.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(node_modules|dist|test/\\.cache)/' },
  },
};
