// The runner's memory floor (issue 9 item 2): peak RSS (VmHWM) of dist/lib/runner.mjs as the image starts it, up to
// the point where a run has loaded every module it needs (the Kubernetes and SQL adapters and the engine are loaded
// when the runner connects). Run outside a cluster with KUBERNETES_SERVICE_HOST set and no service-account token,
// the runner loads the adapters, then stops with exit 2 ("no service account token"): what it holds by then is what
// every run starts with. A real rollout adds its own work on top (bench/rollout.cluster.ts reads that on the test
// cluster). Rows: the Dockerfile's ENTRYPOINT flags, and none (how the image ran before). Figures only.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { percentile, table, writeResult } from './report.js';

const quick = process.argv.includes('--quick');
const N = quick ? 3 : 10;
const bundle = 'dist/lib/runner.mjs';
if (!existsSync(bundle) || !existsSync('/usr/bin/time')) {
  console.log(`(${bundle} or /usr/bin/time missing: npm run build)`);
  process.exit(0);
}
const entrypoint = JSON.parse(/^ENTRYPOINT (.*)$/m.exec(readFileSync('Dockerfile', 'utf8'))?.[1] ?? '[]') as string[];
const imageFlags = entrypoint.slice(1, -1);

const variants: { label: string; flags: string[] }[] = [
  { label: `image flags (${imageFlags.join(' ')})`, flags: imageFlags },
  { label: 'no flags', flags: [] },
  { label: 'no flags, --enable-source-maps (the image before)', flags: ['--enable-source-maps'] },
];
const args = ['rollout', 'sts/crate', '--namespace', 'crate'];
const env = { PATH: '/usr/bin:/bin', KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: '1' };

function once(flags: string[]): { kib: number; code: number | null; last: string } {
  const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, ...flags, bundle, ...args], {
    env,
    cwd: process.cwd(),
    encoding: 'utf8',
  });
  const lines = r.stderr.trim().split('\n');
  return { kib: Number(lines.pop()), code: r.status, last: r.stdout.trim().split('\n').pop() ?? '' };
}

const loadBefore = loadavg();
const rows = variants.map((v) => {
  const kib: number[] = [];
  let last = '';
  for (let i = 0; i < N; i++) {
    const r = once(v.flags);
    kib.push(r.kib);
    last = r.last;
  }
  return { ...v, min: Math.min(...kib) / 1024, median: percentile(kib, 50) / 1024, max: Math.max(...kib) / 1024, last };
});
const node0 = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, '-e', '0'], { encoding: 'utf8' });
const nodeBare = Number(node0.stderr.trim().split('\n').pop()) / 1024;

console.log(
  `Runner memory floor: ${bundle} (${(statSync(bundle).size / 1e6).toFixed(1)} MB) up to the loaded adapters, ${N} runs each, load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`,
);
console.log(
  table(
    ['node flags', 'VmHWM min', 'median', 'max'],
    rows.map((r) => [r.label, `${r.min.toFixed(1)} MiB`, `${r.median.toFixed(1)} MiB`, `${r.max.toFixed(1)} MiB`]),
  ),
);
console.log(`    (node -e 0: ${nodeBare.toFixed(1)} MiB; the runner stopped with: ${rows[0]?.last.slice(0, 140)})`);
writeResult('runner-memory', { node: process.version, loadBefore, nodeBareMiB: nodeBare, rows });
