// npm run bench:rollout - rollouts on the real test cluster (docs/test-cluster.md), with a client reading and writing
// to every node throughout (test/e2e/traffic.ts). Prints figures, asserts nothing (no thresholds); raw figures in
// bench/results/rollout.json. Run through bench/rollout.sh (the e2e lock, a cluster built from this checkout) and
// vitest (bench/rollout.config.ts) only as a harness: the same global setup as the e2e suite.
//
// 1. 5 nodes, 200 GiB of simulated data in all (doc.big: 20 shards x 1 replica x 5 GiB per copy), copied at
//    indices.recovery.max_bytes_per_sec 40mb x BENCH_COPY_SCALE (default 100); `primaries` and, when the CLI has
//    `--relocation`, `auto`: wall time measured and scaled back to 40 MB/s, bytes copied, per-pod phases (the
//    runner's pushed crate_decommission_pod_duration_seconds), moments without an active primary (the simulator's
//    invariant recorder), failed client requests.
// 2. 10 and 50 pods (fast simulator: request check and exit delay 200 ms each): orchestration overhead per pod,
//    apiserver_request_total by verb/resource before/after (the apiserver's own /metrics), runner peak RSS.
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { loadavg } from 'node:os';
import { describe, it } from 'vitest';
import { countByWho, readAuditLines, requestsOf, type CountsByWho } from './audit-log.js';
import { fmtBytes, table, writeResult } from './report.js';
import { CDK_STATE, RUNNER_IMAGE, kubectlOk, plugin, sim } from '../test/e2e/harness.js';
import { scenario, type Scenario } from '../test/e2e/scenario.js';
import { startTraffic, type TrafficReport } from '../test/e2e/traffic.js';

const GIB = 2 ** 30;
const SCALE = Number(process.env.BENCH_COPY_SCALE ?? 100);
const PUSHGATEWAY = 'http://10.88.0.1:19091';
const GATE_SPACING_S = (3 - 1) * 2; // the health gate's 3 readings 2 s apart (docs/engine.md)
const PHASES = ['drain', 'exit', 'recreate', 'ready', 'rejoin', 'health_gate'] as const;
const AUDIT_DIR = `${CDK_STATE}/logs`; // test/cluster/up writes the apiserver's audit log there (audit.log)
const RUNNER_SA = 'crate-decommission'; // plugin/objects.ts DEFAULT_SERVICE_ACCOUNT (rbac install)
const PLUGIN_USER = 'kubernetes-admin'; // the test cluster's kubeconfig user (test/cluster/up)
const RESULTS = 'bench/results';
mkdirSync(RESULTS, { recursive: true });
const out: string[] = [];
const results: Record<string, unknown> = {};
const say = (s = '') => {
  out.push(s);
  process.stdout.write(`${s}\n`);
};

interface Copied {
  totalBytes: number;
  bytes: Record<string, number>;
  recoveries: Record<string, number>;
  operationBased: number;
  inFlight: unknown[];
}

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { timeout: 5000 }, (res) => {
        let d = '';
        res.on('data', (c: Buffer) => (d += c.toString()));
        res.on('end', () => resolve(d));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

function labelsOf(s: string): Record<string, string> {
  const m: Record<string, string> = {};
  for (const x of s.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) m[x[1]!] = x[2]!;
  return m;
}

/** apiserver_request_total summed by "VERB resource[/subresource]". */
async function apiserverRequests(): Promise<Record<string, number>> {
  const text = await kubectlOk(['get', '--raw', '/metrics']);
  const sums: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^apiserver_request_total\{(.*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const l = labelsOf(m[1]!);
    const key = `${l.verb} ${l.resource ?? ''}${l.subresource ? `/${l.subresource}` : ''}`;
    sums[key] = (sums[key] ?? 0) + Number(m[2]);
  }
  return sums;
}

function diff(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const d: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) {
    const x = v - (before[k] ?? 0);
    if (x > 0) d[k] = x;
  }
  return d;
}

/** Per-pod phase seconds (sum and count) the runner pushed for this namespace. */
async function phases(namespace: string): Promise<Record<string, { sum: number; count: number }>> {
  const text = await get(`${PUSHGATEWAY}/metrics`).catch(() => '');
  const r: Record<string, { sum: number; count: number }> = {};
  for (const line of text.split('\n')) {
    const m = /^crate_decommission_pod_duration_seconds_(sum|count)\{(.*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const l = labelsOf(m[2]!);
    if (l.namespace !== namespace || !l.phase) continue;
    const p = (r[l.phase] ??= { sum: 0, count: 0 });
    p[m[1] as 'sum' | 'count'] += Number(m[3]);
  }
  return r;
}

/** Samples the runner process (node ... runner.mjs, found through the kubelet's pid files) for its VmHWM. */
function rssSampler(): { stop(): number } {
  let peak = 0;
  const sample = () => {
    let dirs: string[];
    try {
      dirs = readdirSync(`${CDK_STATE}/pods`);
    } catch {
      return;
    }
    for (const uid of dirs) {
      let containers: string[];
      try {
        containers = readdirSync(`${CDK_STATE}/pods/${uid}`);
      } catch {
        continue;
      }
      for (const c of containers) {
        try {
          const pid = readFileSync(`${CDK_STATE}/pods/${uid}/${c}/pid`, 'utf8').trim();
          if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('runner.mjs')) continue;
          const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
          if (hwm) peak = Math.max(peak, Number(hwm[1]) * 1024);
        } catch {
          // not a container folder, or the process has ended
        }
      }
    }
  };
  const t = setInterval(sample, 250);
  return {
    stop() {
      clearInterval(t);
      sample();
      return peak;
    },
  };
}

/** utime + stime of the kube-apiserver process (test/cluster/up's pid file), in seconds. */
function apiserverCpuS(): number {
  try {
    const pid = readFileSync(`${CDK_STATE}/pids/kube-apiserver.pid`, 'utf8').split('\n')[0]!.trim();
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const x = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(x[11]) + Number(x[12])) / 100; // fields 14, 15 (clock ticks, USER_HZ 100)
  } catch {
    return Number.NaN;
  }
}

function auditSize(): number {
  try {
    return statSync(`${AUDIT_DIR}/audit.log`).size;
  } catch {
    return 0;
  }
}

/** Time during which the simulator had file copies in flight (sampled every 250 ms). */
function copySampler(cluster: string): { stop(): number } {
  let busy = 0;
  let last = Date.now();
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const c = await sim<Copied>('GET', `/clusters/${cluster}/copied`).catch(() => undefined);
      const now = Date.now();
      if (c && c.inFlight.length > 0) busy += now - last;
      last = now;
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  return {
    stop() {
      stopped = true;
      void loop;
      return busy;
    },
  };
}

const failed = (r: TrafficReport) => {
  const f = (k: Record<string, number>) =>
    Object.entries(k)
      .filter(([x]) => x !== 'ok')
      .reduce((a, [, v]) => a + v, 0);
  const refused = r.writes.refused + r.reads.refused;
  return {
    writes: f(r.writes),
    reads: f(r.reads),
    refused,
    other: f(r.writes) + f(r.reads) - refused,
    total: r.writes.ok + r.reads.ok + f(r.writes) + f(r.reads),
  };
};

let relocationFlag: boolean | undefined;
async function hasRelocationFlag(): Promise<boolean> {
  relocationFlag ??= /--relocation\b/.test(Object.values(await plugin(['rollout', '--help'])).join('\n'));
  return relocationFlag;
}

interface RunFigures {
  wallMs: number;
  copyBusyMs: number;
  copied: Copied;
  phases: Record<string, { sum: number; count: number }>;
  violations: number;
  traffic: TrafficReport;
  requests: Record<string, number>;
  backgroundPerS: Record<string, number>;
  runnerPeakRss: number;
  /** CPU seconds the kube-apiserver process spent during the command, and the audit log's growth. */
  apiserverCpuS: number;
  /** 1-minute load average of the (shared) machine: at the start, the end, and the highest sampled every 5 s. */
  load: { start: number; end: number; max: number };
  auditBytes: number;
  /** The apiserver's audit log: requests received during the command, by identity, verb and resource. */
  audit: CountsByWho | undefined;
  code: number;
  output: string;
}

async function rollout(s: Scenario, extra: string[], trafficIntervalMs: number): Promise<RunFigures> {
  // the apiserver's idle background (kubelet, controllers, the bench's own polling) over 10 s
  const idle0 = await apiserverRequests();
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, 10_000));
  const idle = diff(await apiserverRequests(), idle0);
  const idleS = (Date.now() - t0) / 1000;
  const backgroundPerS = Object.fromEntries(Object.entries(idle).map(([k, v]) => [k, v / idleS]));
  await sim('POST', `/clusters/${s.cluster}/copied/reset`);
  const traffic = await startTraffic({ cluster: s.cluster, intervalMs: trafficIntervalMs });
  const before = await apiserverRequests();
  const rss = rssSampler();
  const cpu0 = apiserverCpuS();
  const load = { start: loadavg()[0]!, end: 0, max: loadavg()[0]! };
  const loadTimer = setInterval(() => (load.max = Math.max(load.max, loadavg()[0]!)), 5000);
  const audit0 = auditSize();
  const copies = copySampler(s.cluster);
  const start = Date.now();
  const r = await plugin(
    [
      'rollout',
      `sts/${s.sts}`,
      '-n',
      s.namespace,
      '--image',
      RUNNER_IMAGE,
      '--pushgateway',
      PUSHGATEWAY,
      '--timeout',
      '7200s',
      '--health-timeout',
      '7200s',
      '--pod-ready-timeout',
      '600s',
      ...extra,
    ],
    { timeoutMs: 4 * 3600_000 },
  );
  const end = Date.now();
  const wallMs = end - start;
  const copyBusyMs = copies.stop();
  const runnerPeakRss = rss.stop();
  const apiserverCpu = apiserverCpuS() - cpu0;
  clearInterval(loadTimer);
  load.end = loadavg()[0]!;
  load.max = Math.max(load.max, load.end);
  const auditBytes = auditSize() - audit0;
  const requests = diff(await apiserverRequests(), before);
  const report = await traffic.stop();
  const inv = await sim<{ violations: unknown[] | null }>('GET', `/clusters/${s.cluster}/invariants`);
  const copied = await sim<Copied>('GET', `/clusters/${s.cluster}/copied`);
  await new Promise((res) => setTimeout(res, 1500)); // the Pushgateway has the last push
  const audit = await readAuditLines(AUDIT_DIR, start)
    .then((lines) =>
      countByWho(requestsOf(lines, start, end), {
        runnerUser: `system:serviceaccount:${s.namespace}:${RUNNER_SA}`,
        pluginUser: PLUGIN_USER,
      }),
    )
    .catch((e: unknown) => {
      say(`(no audit log in ${AUDIT_DIR}: ${String(e)})`);
      return undefined;
    });
  writeFileSync(`${RESULTS}/rollout-${s.namespace}.log`, r.stdout + r.stderr);
  return {
    wallMs,
    copyBusyMs,
    copied,
    phases: await phases(s.namespace),
    violations: (inv.violations ?? []).length,
    traffic: report,
    requests,
    backgroundPerS,
    runnerPeakRss,
    apiserverCpuS: apiserverCpu,
    load,
    auditBytes,
    audit,
    code: r.code,
    output: r.stdout + r.stderr,
  };
}

/** The tool's own requests (runner + plugin) from the audit log, per pod, beside all clients'. */
function auditTables(f: RunFigures, pods: number): void {
  const a = f.audit;
  if (!a) {
    say('(audit log not available: tool requests not counted)');
    return;
  }
  const tool = a.runner.total + a.plugin.total;
  const all = tool + a.other.total;
  say(
    `audit log: the tool's own requests ${tool} (${(tool / pods).toFixed(1)} per pod: runner ${a.runner.total}, plugin ${a.plugin.total}); all clients ${all} (${(all / pods).toFixed(1)} per pod)`,
  );
  const keys = new Set([...Object.keys(a.runner.byKey), ...Object.keys(a.plugin.byKey)]);
  const rows = [...keys]
    .map((k) => [k, a.runner.byKey[k] ?? 0, a.plugin.byKey[k] ?? 0] as const)
    .sort((x, y) => y[1] + y[2] - (x[1] + x[2]))
    .map(([k, r, p]) => [k, r, p, ((r + p) / pods).toFixed(2)]);
  say(table(['verb resource (audit log)', 'runner', 'plugin', 'tool per pod'], rows));
  const others = Object.entries(a.other.byKey)
    .sort((x, y) => y[1] - x[1])
    .slice(0, 12)
    .map(([k, v]) => [k, v, (v / pods).toFixed(2)]);
  say(table(['other clients (top 12)', 'count', 'per pod'], others));
  say('');
}

const s1 = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const gib = (b: number) => (b >= GIB ? `${(b / GIB).toFixed(1)} GiB` : fmtBytes(b));

describe('bench: rollout on the test cluster', () => {
  it(
    '5 nodes, 200 GiB simulated data (1 replica): primaries vs auto',
    async () => {
      const withFlag = await hasRelocationFlag();
      const modes = withFlag ? ['primaries', 'auto'] : ['primaries'];
      say(`## 5 nodes, 200 GiB (doc.big 20 shards x 1 replica x 5 GiB per copy), copy rate 40mb x ${SCALE} per node`);
      if (!withFlag)
        say('(`--relocation` is not in this CLI yet: `auto` NOT measured; today every restart drains with PRIMARIES)');
      const rows: (string | number)[][] = [];
      const phaseRows: (string | number)[][] = [];
      for (const mode of modes) {
        const s = await scenario(`bench-${mode}`, {
          dcUtil: false,
          replicas: 5,
          simConfig: {
            relocationShardsPerSecond: 200,
            concurrentRecoveries: 2,
            copyScale: SCALE,
            leakRetriedReads: false,
          },
          tables: [
            { name: 'metrics', shards: 6, replicas: 1 },
            { name: 'big', shards: 20, replicas: 1, shardBytes: 5 * GIB },
          ],
        });
        try {
          await plugin(['rbac', 'install', '-n', s.namespace]);
          const f = await rollout(s, withFlag ? ['--relocation', mode] : [], 200);
          const scaledBack = f.wallMs + f.copyBusyMs * (SCALE - 1);
          const fl = failed(f.traffic);
          results[`5pods-${mode}`] = { ...f, scaledBackMs: scaledBack, output: f.output.slice(-4000) };
          rows.push([
            mode,
            f.code,
            s1(f.wallMs),
            s1(f.copyBusyMs),
            s1(scaledBack),
            gib(f.copied.totalBytes),
            gib(f.copied.bytes.relocation ?? 0),
            gib(f.copied.bytes.rebalance ?? 0),
            gib(f.copied.bytes.replicaFileBased ?? 0),
            f.copied.operationBased,
            f.violations,
            `${fl.refused} refused, ${fl.other} other of ${fl.total}`,
          ]);
          phaseRows.push([
            mode,
            ...PHASES.map((p) =>
              f.phases[p] ? `${(f.phases[p]!.sum / Math.max(1, f.phases[p]!.count)).toFixed(1)} s` : '-',
            ),
          ]);
          if (f.code !== 0) say(`rollout ${mode} exit ${f.code}:\n${f.output.slice(-2000)}`);
          say(`### ${mode}: load average (1 min) start / end / max ${f.load.start} / ${f.load.end} / ${f.load.max}`);
          say(`### ${mode}: requests by identity`);
          auditTables(f, 5);
        } finally {
          await s.drop();
        }
      }
      say(
        table(
          [
            'relocation',
            'exit',
            'wall (measured)',
            'of it copying',
            'wall at 40 MB/s',
            'file bytes',
            'relocation',
            'rebalance',
            'replica file-based',
            'op-based recoveries',
            'moments w/o primary',
            'failed client requests',
          ],
          rows,
        ),
      );
      say('');
      say('Per-pod phases (average per pod, measured):');
      say(table(['relocation', ...PHASES], phaseRows));
      say('');
    },
    4 * 3600_000,
  );

  // BENCH_PODS: the pod counts of part 2 (default 10,50)
  for (const pods of (process.env.BENCH_PODS ?? '10,50').split(',').map(Number)) {
    it(
      `${pods} pods: orchestration overhead, API requests, runner RSS`,
      async () => {
        const REQ = 200;
        const EXIT = 200;
        const s = await scenario(`bench-${pods}`, {
          dcUtil: false,
          replicas: pods,
          simConfig: {
            relocationShardsPerSecond: 200,
            concurrentRecoveries: 4,
            requestCheckMs: REQ,
            exitDelayMs: EXIT,
            leakRetriedReads: false,
          },
          tables: [{ name: 'metrics', shards: pods, replicas: 1 }],
        });
        try {
          await plugin(['rbac', 'install', '-n', s.namespace]);
          const f = await rollout(s, [], 1000);
          const inherentMs = pods * (REQ + EXIT) + (pods + 1) * GATE_SPACING_S * 1000;
          const overheadPerPod = (f.wallMs - inherentMs) / pods;
          // The `ready` phase (re-created pod to Ready) is the kubelet's readiness probe, period 1 s (Kubernetes'
          // minimum; the first probe comes before the simulated CrateDB listens): Kubernetes' time, not the tool's.
          const ready = f.phases.ready;
          const readyPerPod = ready && ready.count > 0 ? (ready.sum / ready.count) * 1000 : null;
          const wallS = f.wallMs / 1000;
          const net = Object.entries(f.requests)
            .map(([k, v]) => [k, v, Math.max(0, v - (f.backgroundPerS[k] ?? 0) * wallS)] as const)
            .sort((a, b) => b[2] - a[2]);
          const total = net.reduce((a, [, v]) => a + v, 0);
          const netTotal = net.reduce((a, [, , n]) => a + n, 0);
          const fl = failed(f.traffic);
          results[`${pods}pods`] = {
            ...f,
            inherentMs,
            overheadPerPodMs: overheadPerPod,
            readyPhasePerPodMs: readyPerPod,
            output: f.output.slice(-4000),
          };
          say(
            `## ${pods} pods (fast simulator: request check ${REQ} ms, exit delay ${EXIT} ms; health gate 3 readings 2 s apart)`,
          );
          if (f.code !== 0) say(`rollout exit ${f.code}:\n${f.output.slice(-2000)}`);
          say(
            table(
              ['figure', 'value'],
              [
                ['exit code', f.code],
                ['wall time', s1(f.wallMs)],
                ['inherent: pods x (request check + exit delay) + (pods + 1) gates x 4 s', s1(inherentMs)],
                ['orchestration overhead per pod', `${(overheadPerPod / 1000).toFixed(2)} s`],
                [
                  "  of it the ready phase (the kubelet's readiness probe, period 1 s)",
                  readyPerPod === null ? '-' : `${(readyPerPod / 1000).toFixed(2)} s`,
                ],
                [
                  '  overhead per pod without the ready phase',
                  readyPerPod === null ? '-' : `${((overheadPerPod - readyPerPod) / 1000).toFixed(2)} s`,
                ],
                [
                  'apiserver requests during the rollout (all clients)',
                  `${total} (${(total / pods).toFixed(1)} per pod)`,
                ],
                [
                  '  net of the idle background rate',
                  `${netTotal.toFixed(0)} (${(netTotal / pods).toFixed(1)} per pod)`,
                ],
                ['runner peak RSS (VmHWM)', fmtBytes(f.runnerPeakRss)],
                ['load average (1 min) start / end / max', `${f.load.start} / ${f.load.end} / ${f.load.max}`],
                [
                  'kube-apiserver CPU during the rollout; audit log written',
                  `${f.apiserverCpuS.toFixed(1)} s (${((100 * f.apiserverCpuS) / wallS).toFixed(0)}% of one core); ${fmtBytes(f.auditBytes)}`,
                ],
                ['moments without a primary', f.violations],
                [
                  'failed client requests',
                  `${fl.refused} refused by a draining node, ${fl.other} other, of ${fl.total}`,
                ],
              ],
            ),
          );
          say('');
          say(
            'apiserver_request_total by verb and resource (during the rollout; net = minus the idle rate x wall time):',
          );
          say(
            table(
              ['verb resource', 'count', 'net', 'net per pod'],
              net.filter(([, , n]) => n >= 0.5).map(([k, v, n]) => [k, v, n.toFixed(0), (n / pods).toFixed(2)]),
            ),
          );
          say('');
          say('Per-pod phases (average per pod, measured):');
          say(
            table(
              [...PHASES],
              [
                PHASES.map((p) =>
                  f.phases[p] ? `${(f.phases[p]!.sum / Math.max(1, f.phases[p]!.count)).toFixed(2)} s` : '-',
                ),
              ],
            ),
          );
          say('');
          auditTables(f, pods);
        } finally {
          await s.drop();
        }
      },
      4 * 3600_000,
    );
  }

  it('writes the figures', () => {
    writeResult('rollout', { scale: SCALE, results, printed: out });
  });
});
