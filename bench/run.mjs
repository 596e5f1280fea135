// npm run bench [-- --quick] [-- engine|startup]: transpiles the engine, the test fakes (test/support/) and the
// benchmarks file by file into bench/.out (esbuild, no bundling, so CPU profiles name the source
// file), then runs each benchmark in its own Node process with --expose-gc. Prints figures only;
// nothing here is part of `npm test`. Raw figures land in bench/results/*.json.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { globSync, rmSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';

const argv = process.argv.slice(2);
const flags = argv.filter((a) => a.startsWith('--'));
const only = argv.filter((a) => !a.startsWith('--'));
const wanted = (name) => only.length === 0 || only.includes(name);

if (!process.version.startsWith('v24')) {
  console.error(`bench: needs Node 24 (node_modules/.bin/node via npm run bench), not ${process.version}`);
  process.exit(2);
}

rmSync('bench/.out', { recursive: true, force: true });
const entryPoints = [
  ...globSync('shared/**/*.ts'),
  ...globSync('test/support/**/*.ts').filter((f) => !f.endsWith('.test.ts')),
  ...globSync('bench/*.ts'),
];
await build({
  entryPoints,
  outdir: 'bench/.out',
  outbase: '.',
  bundle: false,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  logLevel: 'warning',
});

const cpu = cpus();
console.log(
  `Machine: ${cpu.length} x ${cpu[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')} (1/5/15 min), node ${process.version}\n`,
);

const runs = [
  ['engine', ['--expose-gc', 'bench/.out/bench/engine.bench.js', ...flags]],
  ['startup', ['bench/.out/bench/plugin-startup.js', ...flags]],
  ['runner-memory', ['bench/.out/bench/runner-memory.js', ...flags]],
];
let failed = 0;
for (const [name, args] of runs) {
  if (!wanted(name)) continue;
  const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
  if (r.status !== 0) {
    failed += 1;
    console.error(`bench ${name}: exit ${r.status ?? r.signal}`);
  }
  console.log('');
}
console.log(
  `Load average after the run: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
process.exit(failed ? 1 : 0);
