// Start-up cost of the plugin next to kubectl's, in ONE run (issue 9 item 3): `--help`, an offline `plan -f`,
// completion and bad input of the single executable (dist/kubectl-crate_decommission) and of the npm bundle
// (node dist/lib/...), with `kubectl version --client` and `node -e 0` as references. The commands run round-robin
// (one of each, N times), so a load change on the machine hits every row alike. Prints wall time (min, median, p95),
// CPU time (user + sys of the child, from its rusage: bash's `time`, millisecond resolution), each as a multiple of
// kubectl's, peak RSS, the load average before and after, the binary's size and what each target wrote to $TMPDIR.
// On a shared machine the wall medians mostly measure the other processes; the CPU time is what a command costs
// itself (it still grows somewhat with load: caches, memory bandwidth), so read the CPU ratio first. Figures only,
// no thresholds. kubectl: $KUBECTL, else the test cluster's cached build
// (~/.cache/crate-decommission/bin/k8s-*/kubectl), else kubectl on PATH.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { homedir, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fmtMs, percentile, table, writeResult } from './report.js';

const quick = process.argv.includes('--quick');
const N = quick ? 5 : 20;
const node = process.execPath;
const mjs = 'dist/lib/kubectl-crate_decommission.mjs';
const binary = 'dist/kubectl-crate_decommission';
const fixture = 'test/fixtures/statefulsets/crate-operator-data-hot.yaml';
const haveTime = existsSync('/usr/bin/time');

function findKubectl(): string | null {
  if (process.env.KUBECTL && existsSync(process.env.KUBECTL)) return process.env.KUBECTL;
  const cache = join(homedir(), '.cache', 'crate-decommission', 'bin');
  const cached = existsSync(cache)
    ? readdirSync(cache)
        .filter((d) => d.startsWith('k8s-'))
        .map((d) => join(cache, d, 'kubectl'))
        .find((p) => existsSync(p))
    : undefined;
  if (cached) return cached;
  const onPath = spawnSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).stdout.trim();
  return onPath || null;
}

const COMMANDS: { label: string; args: string[] }[] = [
  { label: '--help', args: ['--help'] },
  { label: `plan -f ${fixture.split('/').pop()} -o json`, args: ['plan', '-f', fixture, '-o', 'json'] },
  { label: 'completion (__complete rollout "": asks the cluster)', args: ['__complete', 'rollout', ''] },
  { label: 'bad command (exit 2)', args: ['no-such-command'] },
];

interface Case {
  target: string;
  command: string;
  cmd: string;
  args: string[];
  tmp: string;
  ms: number[];
  cpu: number[];
  rss: number[];
  code: number | null;
}

const cases: Case[] = [];
const add = (target: string, command: string, cmd: string, args: string[]) =>
  cases.push({
    target,
    command,
    cmd,
    args,
    tmp: mkdtempSync(join(tmpdir(), 'bench-startup-')),
    ms: [],
    cpu: [],
    rss: [],
    code: null,
  });

const kubectl = findKubectl();
if (kubectl) add('kubectl', 'version --client', kubectl, ['version', '--client']);
else console.log('(kubectl not found: set KUBECTL, or build the test cluster once)');
if (existsSync(binary)) for (const c of COMMANDS) add(binary, c.label, binary, c.args);
else console.log(`(${binary} missing: npm run build:binary builds it)`);
if (existsSync(mjs)) for (const c of COMMANDS) add(`node ${mjs}`, c.label, node, [mjs, ...c.args]);
else console.log(`(${mjs} missing: run npm run build)`);
add('node -e 0', '-', node, ['-e', '0']);

/**
 * One run: wall ms, CPU ms (user + sys), peak RSS KiB, exit code. KUBECONFIG points nowhere: nothing may reach a
 * cluster. bash's `time` reads the child's rusage (getrusage RUSAGE_CHILDREN, printed to the millisecond); GNU time
 * inside it only writes the peak RSS to a file (its own CPU, about 1 ms, is in every row alike, kubectl's too).
 */
function once(c: Case): { ms: number; cpuMs: number; rssKiB: number; code: number | null } {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KUBECONFIG: '/nonexistent/kubeconfig',
    TMPDIR: c.tmp,
    NO_COLOR: '1',
  };
  const rssFile = join(c.tmp, '..', `${c.tmp.split('/').pop()}.rss`);
  const inner = haveTime ? ['/usr/bin/time', '-f', '%M', '-o', rssFile, c.cmd, ...c.args] : [c.cmd, ...c.args];
  const script = `TIMEFORMAT='%3U %3S'; { time "$@" >/dev/null 2>/dev/null; } 2>&1`;
  const t0 = performance.now();
  const r = spawnSync('bash', ['-c', script, 'bench', ...inner], { env, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  const ms = performance.now() - t0;
  const [user, sys] = (r.stdout.trim().split('\n').pop() ?? '').split(' ').map(Number);
  const rss = haveTime && existsSync(rssFile) ? Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop()) : 0;
  rmSync(rssFile, { force: true });
  return { ms, cpuMs: ((user ?? NaN) + (sys ?? NaN)) * 1000, rssKiB: rss, code: r.status };
}

/** Bytes under a directory (what a target left in its $TMPDIR). */
function bytesUnder(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    n += e.isDirectory() ? bytesUnder(p) : statSync(p).size;
  }
  return n;
}

const loadBefore = loadavg();
for (const c of cases) once(c); // warm the page cache (and let a target write its cache, if it does)
for (let i = 0; i < N; i++) {
  for (const c of cases) {
    const r = once(c);
    c.ms.push(r.ms);
    c.cpu.push(r.cpuMs);
    c.rss.push(r.rssKiB);
    c.code = r.code;
  }
}

const loadAfter = loadavg();
const kubectlCase = cases.find((c) => c.target === 'kubectl');
const kubectlMedian = kubectlCase ? percentile(kubectlCase.ms, 50) : null;
const kubectlCpuMedian = kubectlCase ? percentile(kubectlCase.cpu, 50) : null;
const tmpWrites = new Map<string, number>();
for (const c of cases) {
  tmpWrites.set(c.target, (tmpWrites.get(c.target) ?? 0) + bytesUnder(c.tmp));
  rmSync(c.tmp, { recursive: true, force: true });
}

const rows = cases.map((c) => ({
  target: c.target,
  command: c.command,
  exit: c.code,
  runs: N,
  minMs: Math.min(...c.ms),
  medianMs: percentile(c.ms, 50),
  p95Ms: percentile(c.ms, 95),
  vsKubectl: kubectlMedian ? percentile(c.ms, 50) / kubectlMedian : null,
  cpuMinMs: Math.min(...c.cpu),
  cpuMedianMs: percentile(c.cpu, 50),
  cpuVsKubectl: kubectlCpuMedian ? percentile(c.cpu, 50) / kubectlCpuMedian : null,
  maxRssMiB: Math.max(...c.rss) / 1024,
}));

const fmtLoad = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
console.log(
  `Plugin start-up next to kubectl, ${N} rounds (every command once per round), load average ${fmtLoad(loadBefore)} before, ${fmtLoad(loadAfter)} after; peak RSS ${haveTime ? 'via /usr/bin/time' : 'not measured (no /usr/bin/time)'}`,
);
const ratio = (x: number | null) => (x === null ? '-' : `${x.toFixed(2)}x`);
console.log(
  table(
    [
      'target',
      'command',
      'exit',
      'CPU min',
      'CPU median',
      'CPU median / kubectl',
      'wall min',
      'wall median',
      'wall p95',
      'wall median / kubectl',
      'max RSS',
    ],
    rows.map((r) => [
      r.target,
      r.command,
      String(r.exit),
      fmtMs(r.cpuMinMs),
      fmtMs(r.cpuMedianMs),
      ratio(r.cpuVsKubectl),
      fmtMs(r.minMs),
      fmtMs(r.medianMs),
      fmtMs(r.p95Ms),
      ratio(r.vsKubectl),
      haveTime ? `${r.maxRssMiB.toFixed(0)} MiB` : '-',
    ]),
  ),
);
const sizes: Record<string, number> = {};
if (existsSync(binary)) sizes[binary] = statSync(binary).size;
if (kubectl) sizes.kubectl = statSync(kubectl).size;
console.log('');
console.log(
  table(
    ['file', 'size'],
    Object.entries(sizes).map(([f, b]) => [f, `${(b / 1e6).toFixed(1)} MB`]),
  ),
);
console.log('');
console.log(
  table(
    ['target', 'written to $TMPDIR (all runs)'],
    [...tmpWrites].map(([t, b]) => [t, `${b} bytes`]),
  ),
);
writeResult('startup', {
  node: process.version,
  kubectl,
  loadBefore,
  loadAfter,
  rows,
  sizes,
  tmpWrites: Object.fromEntries(tmpWrites),
});
