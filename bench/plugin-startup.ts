// Start-up cost of the plugin: spawns the bundled plugin (and the single executable when built)
// N times per command and prints wall time (min/median/p95/max) and peak RSS. Peak RSS comes from
// /usr/bin/time (%M) when present, else from a preloaded exit hook reporting process.resourceUsage().
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fmtMs, percentile, table, writeResult } from './report.js';

const quick = process.argv.includes('--quick');
const N = quick ? 5 : 20;
const node = process.execPath;
const mjs = 'dist/lib/kubectl-crate_decommission.mjs';
const binary = 'dist/kubectl-crate_decommission';
const fixture = 'test/fixtures/statefulsets/crate-operator-data-hot.yaml';
const haveTime = existsSync('/usr/bin/time');

const COMMANDS: { label: string; args: string[] }[] = [
  { label: '--help', args: ['--help'] },
  { label: `plan -f ${fixture.split('/').pop()} -o json`, args: ['plan', '-f', fixture, '-o', 'json'] },
  { label: 'bad command (exit 2)', args: ['no-such-command'] },
];

/** One run: wall ms, peak RSS KiB, exit code. */
function once(cmd: string, args: string[]): { ms: number; rssKiB: number; code: number | null } {
  // KUBECONFIG pointing nowhere: nothing may reach a cluster, and no kubeconfig is read by accident.
  const env: NodeJS.ProcessEnv = { ...process.env, KUBECONFIG: '/nonexistent/kubeconfig' };
  if (haveTime) {
    const t0 = performance.now();
    const r = spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...args], { env, encoding: 'utf8' });
    const ms = performance.now() - t0;
    const lines = r.stderr.trim().split('\n');
    const rss = Number(lines[lines.length - 1]);
    return { ms, rssKiB: rss, code: r.status };
  }
  // Without /usr/bin/time: preload a hook (NODE_OPTIONS, honoured by node and by the single
  // executable) that writes process.resourceUsage().maxRSS (KiB) to fd 3 at exit.
  const t0 = performance.now();
  const r = spawnSync(cmd, args, {
    env: { ...env, NODE_OPTIONS: `${env.NODE_OPTIONS ?? ''} --require ${preload()}`.trim() },
    stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
    encoding: 'utf8',
  });
  const ms = performance.now() - t0;
  const out = String((r.output as unknown as (string | null)[])[3] ?? '').trim();
  return { ms, rssKiB: Number(out) || 0, code: r.status };
}

let preloadPath: string | null = null;
function preload(): string {
  if (preloadPath) return preloadPath;
  preloadPath = join(mkdtempSync(join(tmpdir(), 'bench-rss-')), 'rss.cjs');
  writeFileSync(preloadPath, "process.on('exit', () => { try { require('node:fs').writeSync(3, String(process.resourceUsage().maxRSS)); } catch {} });\n");
  return preloadPath;
}

async function stubbedBundle(): Promise<{ file: string; bytes: number } | null> {
  if (!existsSync('plugin/main.ts')) return null;
  const { build } = await import('esbuild');
  const dir = 'bench/.out/what-if';
  mkdirSync(dir, { recursive: true });
  const stub = join(dir, 'client-node-stub.cjs');
  writeFileSync(stub, "const f = function () {};\nmodule.exports = new Proxy(f, { get: (_t, k) => (k === '__esModule' ? false : f), construct: () => ({}) });\n");
  const file = join(dir, 'kubectl-crate_decommission.mjs');
  await build({
    entryPoints: ['plugin/main.ts'],
    outfile: file,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    logLevel: 'error',
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    plugins: [{ name: 'stub-client-node', setup: (b) => b.onResolve({ filter: /^@kubernetes\/client-node/ }, () => ({ path: join(process.cwd(), stub) })) }],
  });
  return { file, bytes: statSync(file).size };
}

interface Row {
  target: string;
  command: string;
  runs: number;
  minMs: number;
  medianMs: number;
  p95Ms: number;
  maxMs: number;
  maxRssMiB: number;
  exit: number | null;
}

const targets: { label: string; cmd: string; pre: string[] }[] = [];
if (existsSync(mjs)) targets.push({ label: `node ${mjs}`, cmd: node, pre: [mjs] });
if (existsSync(binary)) targets.push({ label: `${binary} (single executable, ${(statSync(binary).size / 2 ** 20).toFixed(0)} MiB)`, cmd: binary, pre: [] });
// What-if: the same plugin bundled with @kubernetes/client-node replaced by an empty stub, i.e. the
// upper bound of what loading client-node lazily would save on commands that never reach a cluster.
const whatIf = await stubbedBundle();
if (whatIf) targets.push({ label: `what-if: ${whatIf.file} (client-node stubbed out, ${(whatIf.bytes / 1e6).toFixed(1)} MB)`, cmd: node, pre: [whatIf.file] });
targets.push({ label: 'baseline: node -e 0', cmd: node, pre: ['-e', '0'] });
if (!existsSync(mjs)) console.log(`(${mjs} missing: run npm run build)`);
if (!existsSync(binary)) console.log(`(${binary} missing: npm run build:binary builds it)`);

const rows: Row[] = [];
for (const t of targets) {
  const cmds = t.label.startsWith('baseline') ? [{ label: '-', args: [] }] : t.label.startsWith('what-if') ? COMMANDS.filter((c) => c.label === '--help') : COMMANDS;
  for (const c of cmds) {
    once(t.cmd, [...t.pre, ...c.args]); // warm the page cache
    const ms: number[] = [];
    const rss: number[] = [];
    let code: number | null = null;
    for (let i = 0; i < N; i++) {
      const r = once(t.cmd, [...t.pre, ...c.args]);
      ms.push(r.ms);
      rss.push(r.rssKiB);
      code = r.code;
    }
    rows.push({
      target: t.label,
      command: c.label,
      runs: N,
      minMs: Math.min(...ms),
      medianMs: percentile(ms, 50),
      p95Ms: percentile(ms, 95),
      maxMs: Math.max(...ms),
      maxRssMiB: Math.max(...rss) / 1024,
      exit: code,
    });
  }
}

console.log(`Plugin start-up, ${N} runs per command (peak RSS via ${haveTime ? '/usr/bin/time' : 'a wrapper reading VmHWM'}; KUBECONFIG points nowhere)`);
console.log(
  table(
    ['target', 'command', 'exit', 'min', 'median', 'p95', 'max', 'max RSS'],
    rows.map((r) => [r.target, r.command, String(r.exit), fmtMs(r.minMs), fmtMs(r.medianMs), fmtMs(r.p95Ms), fmtMs(r.maxMs), `${r.maxRssMiB.toFixed(0)} MiB`]),
  ),
);
writeResult('startup', { node: process.version, rows });
