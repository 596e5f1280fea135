// Engine benchmarks on the in-memory fakes (test/support/fakes): prints figures, asserts nothing
// beyond "the roll succeeded". Run with `npm run bench` (bench/run.mjs transpiles and starts it
// with --expose-gc). Three parts:
//   (a) rollingRestart of 3/10/30 pods per strategy, fakes answering at once, on a virtual clock:
//       wall and CPU time per pod, SQL statements and Kubernetes API calls per pod, heap;
//   (b) reaction latency of a pod watch (Ready, old UID gone) through waitForPod, 200 samples;
//   (c) detectStrategy throughput over test/fixtures/statefulsets.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Session } from 'node:inspector/promises';
import v8 from 'node:v8';
import { parseAllDocuments } from 'yaml';
import type { V1StatefulSet } from '@kubernetes/client-node';
import { analyzeCluster } from '../shared/discovery.js';
import { rollingRestart } from '../shared/rolling.js';
import { detectStrategy } from '../shared/detect/index.js';
import { createLogger } from '../shared/log.js';
import { systemClock } from '../shared/clock.js';
import { podReady, waitForPod } from '../shared/wait.js';
import type { EngineDeps } from '../shared/ports.js';
import { World, type WorldOptions } from '../test/support/fakes/world.js';
import { FakeKube } from '../test/support/fakes/kube.js';
import { withPodCache } from '../shared/adapters/pod-cache.js';
import { VirtualClock, installImmediateCounter } from '../test/support/virtual-clock.js';
import { fmtBytes, fmtMs, percentile, table, writeResult } from './report.js';
import { countingKube } from '../test/support/fakes/counting-kube.js';

installImmediateCounter();
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const heapUsed = () => v8.getHeapStatistics().used_heap_size;
const args = new Set(process.argv.slice(2));
const quick = args.has('--quick');

// ---------------------------------------------------------------- (a) rolling restarts

type StrategyCase = {
  label: string;
  short: string;
  world: WorldOptions;
  expect: 'kubernetes_managed' | 'manual';
  sql?: { transport: 'http' | 'exec' };
};
const STRATEGIES: StrategyCase[] = [
  {
    short: 'managed, operator',
    label: 'kubernetes_managed: crate-operator StatefulSet, dc_util preStop; SQL over HTTP as system',
    world: { operator: true, preStop: 'dc_util' },
    expect: 'kubernetes_managed',
  },
  {
    short: 'manual, operator',
    label:
      'manual: crate-operator StatefulSet without hook; reads over HTTP as system, DECOMMISSION by exec (system is no superuser)',
    world: { operator: true, preStop: 'none' },
    expect: 'manual',
  },
  {
    short: 'manual, plain, exec',
    label: 'manual: plain StatefulSet, no credentials known, so every statement goes by exec as crate (the default)',
    world: { operator: false, preStop: 'none' },
    expect: 'manual',
  },
  {
    short: 'manual, plain, http',
    label: 'manual: plain StatefulSet with --sql-transport http (crate over HTTP)',
    world: { operator: false, preStop: 'none' },
    expect: 'manual',
    sql: { transport: 'http' },
  },
];

/** How pods are read: a GET/watch per read (before issue 9 item 2), or the shared pod watch the front ends wire in. */
type PodReads = 'direct' | 'cache';

/**
 * API server requests one port call costs with the real adapter: a watch is a LIST + a WATCH; the shared watch
 * also re-opens its WATCH every 20-27 s (timeoutSeconds; RENEW_S on average), added from the roll's engine time.
 */
const REQUESTS_PER_CALL: Record<string, number> = { watchPod: 2, watchPods: 2 };
const RENEW_S = 23.5;

interface RollFigures {
  strategy: string;
  short: string;
  reads: PodReads;
  /** Kubernetes API requests the tool made (port calls weighted by REQUESTS_PER_CALL, exec, watch renewals). */
  requests: number;
  pods: number;
  ok: boolean;
  analyzeMs: number;
  wallMs: number;
  cpuMs: number;
  engineSeconds: number;
  timersFired: number;
  sqlHttp: number;
  sqlExec: number;
  sqlWrites: number;
  api: Record<string, number>;
  apiTotal: number;
  logLines: number;
  logBytes: number;
  heapBefore: number;
  heapPeak: number;
  heapAfter: number;
  heapAfterClose: number;
  rssPeak: number;
}

type Profile = { nodes: ProfileNode[]; samples?: number[]; timeDeltas?: number[] };

async function roll(
  sc: StrategyCase,
  replicas: number,
  profile?: Session,
  reads: PodReads = 'cache',
): Promise<RollFigures & { profile?: Profile }> {
  gc();
  const heapBefore = heapUsed();
  const clock = new VirtualClock();
  // "Answering at once": no start/re-create/join/exit/step delays in the fakes.
  const w = new World({
    clock,
    ...sc.world,
    replicas,
    joinDelayMs: 0,
    kube: { startDelayMs: 0, recreateDelayMs: 0 },
    crate: { stepMs: 0, exitDelayMs: 0 },
    // One table with a primary and a replica on every node, so every decommission really drains.
    tables: [{ name: 't1', shards: replicas, replicas: 1 }],
  });
  await clock.run(w.start());

  let logLines = 0;
  let logBytes = 0;
  const log = createLogger({
    format: 'json',
    level: 'debug',
    now: () => clock.now(),
    write: (l) => ((logLines += 1), (logBytes += l.length + 1)),
  });
  const { kube: counted, counts } = countingKube(w.kube);
  // The cache sits under the engine, over the counting port: what it asks the API server for is counted.
  const cached = reads === 'cache' ? withPodCache(counted) : null;
  const kube = cached ?? counted;
  const deps: EngineDeps = { kube, sql: w.sql, clock, log, pollIntervalMs: 1000, holderIdentity: 'bench' };

  let heapPeak = heapUsed();
  let rssPeak = process.memoryUsage.rss();
  const sample = () => {
    heapPeak = Math.max(heapPeak, heapUsed());
    rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
  };
  clock.onTick = sample;
  // No sampler while profiling (it would show up in the profile).
  const sampler = profile ? undefined : setInterval(sample, 2);
  if (profile) clock.onTick = undefined;

  const t0 = performance.now();
  const cluster = await clock.run(
    analyzeCluster(deps, {
      namespace: w.namespace,
      kind: 'statefulset',
      name: w.statefulSetName,
      ...(sc.sql ? { sql: sc.sql } : {}),
    }),
  );
  const analyzeMs = performance.now() - t0;
  const strategy = cluster.statefulSets[0]!.detection.strategy;
  if (strategy !== sc.expect) throw new Error(`${sc.label}: detected ${strategy}`);
  counts.clear();
  w.sql.calls.length = 0;
  w.kube.execs.length = 0;
  const engineT0 = clock.now();
  const firedBefore = clock.fired;

  if (profile) await profile.post('Profiler.start');
  const t1 = performance.now();
  const cpu0 = process.cpuUsage();
  const result = await clock.run(rollingRestart(deps, { cluster, dryRun: false }));
  const cpu = process.cpuUsage(cpu0);
  const wallMs = performance.now() - t1;
  const prof = profile ? ((await profile.post('Profiler.stop')) as unknown as { profile: Profile }).profile : undefined;
  clearInterval(sampler);
  sample();
  const engineSeconds = (clock.now() - engineT0) / 1000;
  if (!result.success) throw new Error(`${sc.label} x${replicas}: ${result.error}`);
  if (w.crate.violations.length)
    throw new Error(`${sc.label} x${replicas}: ${w.crate.violations.length} availability violations`);

  gc();
  const heapAfter = heapUsed();
  // Every exec is one pods/exec request (the SQL factory's and the engine's own), a row of its own.
  counts.set('exec (pods/exec)', w.kube.execs.length);
  // The shared watch started with the run's first pod read (discovery, before the counts were reset): it is the run's.
  if (cached) counts.set('watchPods', cached.stats.starts);
  const renewals = counts.has('watchPods') ? Math.floor(engineSeconds / RENEW_S) : 0;
  if (renewals) counts.set('watchPods re-WATCH (est.)', renewals);
  const requests = [...counts.entries()].reduce((a, [m, n]) => a + n * (REQUESTS_PER_CALL[m] ?? 1), 0);
  cached?.close();
  const api = Object.fromEntries([...counts.entries()].sort());
  const sqlHttp = w.sql.calls.filter((c) => c.kind === 'http').length;
  const sqlExec = w.sql.calls.filter((c) => c.kind === 'exec').length;
  // The engine's own writes (dc_util's SET/ALTER under kubernetes_managed are not the engine's).
  const sqlWrites = w.sql.calls.filter((c) => /^\s*(set|reset|alter)\b/i.test(c.stmt)).length;
  const figures: RollFigures & { profile?: Profile } = {
    ...(prof ? { profile: prof } : {}),
    strategy: sc.label,
    short: sc.short,
    reads,
    requests,
    pods: replicas,
    ok: result.success,
    analyzeMs,
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    engineSeconds,
    timersFired: clock.fired - firedBefore,
    sqlHttp,
    sqlExec,
    sqlWrites,
    api,
    apiTotal: [...counts.entries()].filter(([m]) => !m.includes('(')).reduce((a, [, n]) => a + n, 0),
    logLines,
    logBytes,
    heapBefore,
    heapPeak,
    heapAfter,
    heapAfterClose: 0,
    rssPeak,
  };
  w.close();
  gc();
  figures.heapAfterClose = heapUsed();
  return figures;
}

// ---------------------------------------------------------------- (b) reaction latency

interface LatencyFigures {
  what: string;
  samples: number;
  notifiedUs: number[];
  resolvedUs: number[];
}

/**
 * From the moment the fake flips the pod (Ready=True, or removes the old UID) to (1) the watch
 * handler seeing it and (2) waitForPod resolving - what restartPod awaits.
 */
async function reactionLatency(samples: number, busy: boolean): Promise<LatencyFigures[]> {
  const kube = new FakeKube({
    clock: systemClock,
    autoReady: false,
    startDelayMs: 0,
    recreateDelayMs: 0,
    restartDelayMs: 1000,
  });
  const ns = 'bench';
  kube.addStatefulSet({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'crate', namespace: ns, labels: { app: 'crate' } },
    spec: {
      replicas: 1,
      serviceName: 'crate',
      selector: { matchLabels: { app: 'crate' } },
      template: {
        metadata: { labels: { app: 'crate' } },
        spec: { containers: [{ name: 'crate', image: 'crate:6.1.0' }] },
      },
    },
  });
  const name = 'crate-0';
  const running = () => !!kube.pods.get(`${ns}/${name}`)?.status?.containerStatuses?.[0]?.state?.running;
  const until = async (cond: () => boolean) => {
    const deadline = performance.now() + 5000;
    while (!cond()) {
      if (performance.now() > deadline) throw new Error('latency bench: pod did not come back');
      await new Promise((r) => setTimeout(r, 1));
    }
  };
  // Optional background work on the same event loop: 2 ms of CPU every 5 ms, like a busy runner
  // (JSON logs, SQL answers) - the watch event has to wait for it.
  let stopBusy = false;
  const busyLoop = async () => {
    while (!stopBusy) {
      const end = performance.now() + 2;
      while (performance.now() < end) JSON.parse(JSON.stringify({ a: [1, 2, 3], b: 'x'.repeat(64) }));
      await new Promise((r) => setTimeout(r, 3));
    }
  };
  if (busy) void busyLoop();

  const ready: LatencyFigures = { what: 'pod turns Ready', samples, notifiedUs: [], resolvedUs: [] };
  const gone: LatencyFigures = { what: 'old UID gone (pod deleted)', samples, notifiedUs: [], resolvedUs: [] };
  try {
    for (let i = 0; i < samples; i++) {
      await until(running);
      // Ready: the engine waits for podReady.
      kube.setReady(ns, name, false);
      let t0 = 0;
      let notified = 0;
      const waitReady = waitForPod(
        kube,
        ns,
        name,
        (p) => {
          const ok = podReady(p);
          if (ok && !notified) notified = performance.now();
          return ok;
        },
        { timeoutMs: 5000, clock: systemClock },
      );
      await new Promise((r) => setTimeout(r, 2)); // the watch is established and delivered the unready pod
      t0 = performance.now();
      kube.setReady(ns, name, true);
      await waitReady;
      const t1 = performance.now();
      ready.notifiedUs.push((notified - t0) * 1000);
      ready.resolvedUs.push((t1 - t0) * 1000);

      // Old UID gone: the engine waits for null or another UID after deleting the pod.
      const oldUid = kube.pods.get(`${ns}/${name}`)!.metadata!.uid!;
      let removedAt = 0;
      kube.hooks.containerStopped = () => {
        removedAt = performance.now(); // synchronously before the fake removes the pod and notifies
      };
      let seen = 0;
      const waitGone = waitForPod(
        kube,
        ns,
        name,
        (p) => {
          const ok = !p || p.metadata?.uid !== oldUid;
          if (ok && !seen) seen = performance.now();
          return ok;
        },
        { timeoutMs: 5000, clock: systemClock },
      );
      await new Promise((r) => setTimeout(r, 2));
      await kube.deletePod(ns, name, { gracePeriodSeconds: 0, uid: oldUid });
      await waitGone;
      const t2 = performance.now();
      gone.notifiedUs.push((seen - removedAt) * 1000);
      gone.resolvedUs.push((t2 - removedAt) * 1000);
      kube.hooks.containerStopped = undefined;
    }
  } finally {
    stopBusy = true;
    kube.close();
  }
  return [ready, gone];
}

// ---------------------------------------------------------------- (c) detection throughput

function detectionThroughput(rounds: number) {
  const dir = join(process.cwd(), 'test/fixtures/statefulsets');
  const manifests: { file: string; sts: V1StatefulSet }[] = [];
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      const obj = doc.toJS() as { kind?: string } | null;
      if (obj?.kind === 'StatefulSet') manifests.push({ file, sts: obj as V1StatefulSet });
    }
  }
  const rows: { file: string; strategy: string; perCallUs: number; callsPerSec: number }[] = [];
  // Warm-up (JIT) before measuring.
  for (let i = 0; i < 2000; i++) for (const m of manifests) detectStrategy(m.sts);
  gc();
  const heap0 = heapUsed();
  const t0 = performance.now();
  let sink = 0;
  for (let i = 0; i < rounds; i++) for (const m of manifests) sink += detectStrategy(m.sts).reasons.length;
  const totalMs = performance.now() - t0;
  const heapGrowth = heapUsed() - heap0;
  for (const m of manifests) {
    const n = Math.max(1000, Math.floor(rounds / 2));
    const s = performance.now();
    for (let i = 0; i < n; i++) sink += detectStrategy(m.sts).reasons.length;
    const ms = performance.now() - s;
    rows.push({
      file: m.file,
      strategy: detectStrategy(m.sts).strategy,
      perCallUs: (ms * 1000) / n,
      callsPerSec: n / (ms / 1000),
    });
  }
  return {
    manifests: manifests.length,
    rounds,
    totalCalls: rounds * manifests.length,
    totalMs,
    heapGrowth,
    rows,
    sink,
  };
}

// ---------------------------------------------------------------- CPU profile: where time goes

type ProfileNode = {
  id: number;
  callFrame: { functionName: string; url: string };
  hitCount?: number;
  children?: number[];
};

function attribute(profile: { nodes: ProfileNode[]; samples?: number[]; timeDeltas?: number[] }) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  // The first sample's delta covers the profiler's own start; skip it.
  for (let i = 1; i < samples.length; i++) selfUs.set(samples[i]!, (selfUs.get(samples[i]!) ?? 0) + (deltas[i] ?? 0));
  const byCategory = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    const url = n.callFrame.url;
    const fn = n.callFrame.functionName || '(anonymous)';
    let cat: string;
    if (fn === '(idle)' || fn === '(program)') cat = fn;
    else if (fn === '(garbage collector)') cat = 'GC';
    else if (url.includes('/bench/.out/shared/'))
      cat = `engine: ${url.slice(url.indexOf('/shared/') + 1).replace(/\.js$/, '.ts')}`;
    else if (url.includes('/bench/.out/test/support/fakes/')) cat = 'fakes (test/support/fakes)';
    else if (url.includes('/bench/.out/bench/') || url === 'node:inspector')
      cat = 'bench harness (virtual clock, profiler)';
    else if (url.includes('/node_modules/zod/')) cat = 'zod (schema parsing)';
    else if (url.includes('/node_modules/')) cat = `node_modules: ${url.split('/node_modules/')[1]!.split('/')[0]}`;
    else if (url.startsWith('node:')) cat = 'node internals';
    else cat = url ? 'other' : `native: ${fn}`;
    if (cat === '(idle)') continue;
    total += us;
    byCategory.set(cat, (byCategory.get(cat) ?? 0) + us);
    const shortUrl = url.replace(/^.*\/bench\/\.out\//, '').replace(/^.*\/node_modules\//, '');
    const key = `${fn} ${shortUrl}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  }
  const top = (m: Map<string, number>, k: number) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, k);
  return { totalUs: total, categories: top(byCategory, 14), functions: top(byFunction, 12) };
}

// ---------------------------------------------------------------- main

async function main() {
  const sizes = quick ? [10, 30] : [3, 10, 30, 50];
  const requestSizes = sizes.filter((n) => n >= 10);
  const repeats = quick ? 1 : 3;
  console.log(
    `Engine benchmarks (node ${process.version}, ${quick ? 'quick' : 'full'}; fakes from test/support/fakes, virtual clock)\n`,
  );

  // Warm-up: one small roll per strategy so the JIT and module initialisation are not billed to 3 pods.
  for (const sc of STRATEGIES) await roll(sc, 3);

  const rolls: RollFigures[] = [];
  for (const sc of STRATEGIES) {
    for (const n of sizes) {
      // Best of `repeats` by wall time (other processes share the 2 cores).
      let best: RollFigures | null = null;
      for (let r = 0; r < repeats; r++) {
        const f = await roll(sc, n);
        if (!best || f.wallMs < best.wallMs) best = f;
        delete f.profile;
      }
      rolls.push(best!);
    }
  }
  // The same rolls with a GET and a watch per pod read (no shared watch): the "before" of issue 9 item 2. Counts
  // do not depend on timing, so one run each.
  const direct: RollFigures[] = [];
  for (const sc of STRATEGIES) for (const n of requestSizes) direct.push(await roll(sc, n, undefined, 'direct'));

  console.log(
    '(a) rollingRestart, fakes answering at once (no start/join/drain delays), default gate (3 readings 2 s apart), pollIntervalMs 1000',
  );
  console.log(
    '    wall/CPU = real time the engine + fakes spent; engine s = simulated time the roll waited (timers), i.e. the floor with an instant CrateDB',
  );
  console.log(
    table(
      [
        'strategy',
        'pods',
        'wall/pod',
        'CPU/pod',
        'engine s/pod',
        'timers/pod',
        'SQL/pod (http+exec)',
        'SQL writes/pod',
        'API calls/pod',
        'log lines/pod',
        'heap peak-before',
        'retained after roll',
      ],
      rolls.map((r) => [
        r.short,
        r.pods,
        fmtMs(r.wallMs / r.pods),
        fmtMs(r.cpuMs / r.pods),
        (r.engineSeconds / r.pods).toFixed(1),
        (r.timersFired / r.pods).toFixed(0),
        `${((r.sqlHttp + r.sqlExec) / r.pods).toFixed(1)} (${(r.sqlHttp / r.pods).toFixed(1)}+${(r.sqlExec / r.pods).toFixed(1)})`,
        (r.sqlWrites / r.pods).toFixed(1),
        (r.apiTotal / r.pods).toFixed(1),
        (r.logLines / r.pods).toFixed(1),
        fmtBytes(r.heapPeak - r.heapBefore),
        fmtBytes(r.heapAfter - r.heapBefore),
      ]),
    ),
  );
  const largest = Math.max(...sizes);
  const both = [...direct, ...rolls.filter((r) => requestSizes.includes(r.pods))];
  const methods = [...new Set(both.flatMap((r) => Object.keys(r.api)))].sort();
  console.log(
    `\n    Kubernetes API requests per pod the tool makes (target: at most 12 at 50 pods). "direct" = a GET/watch per pod read (before), "cache" = one shared pod watch (after); a watch = LIST + WATCH (2 requests):`,
  );
  console.log(
    table(
      ['strategy', 'pod reads', ...requestSizes.map((n) => `${n} pods`)],
      STRATEGIES.flatMap((sc) =>
        (['direct', 'cache'] as const).map((reads) => [
          sc.short,
          reads,
          ...requestSizes.map((n) => {
            const r = both.find((x) => x.short === sc.short && x.reads === reads && x.pods === n);
            return r ? (r.requests / r.pods).toFixed(1) : '-';
          }),
        ]),
      ),
    ),
  );
  for (const n of requestSizes) {
    console.log(
      `\n    Kubernetes API calls per pod by method, ${n} pods (exec = pods/exec sessions, a row of its own):`,
    );
    console.log(
      table(
        ['method', ...STRATEGIES.flatMap((sc) => [`${sc.short} direct`, `${sc.short} cache`])],
        methods.map((m) => [
          m,
          ...STRATEGIES.flatMap((sc) =>
            (['direct', 'cache'] as const).map((reads) => {
              const r = both.find((x) => x.short === sc.short && x.reads === reads && x.pods === n);
              return r ? ((r.api[m] ?? 0) / r.pods).toFixed(2) : '-';
            }),
          ),
        ]),
      ),
    );
  }
  for (const sc of STRATEGIES) console.log(`    ${sc.short}: ${sc.label}`);
  for (const r of rolls.filter((x) => x.pods === largest)) {
    console.log(
      `    ${r.short}, ${r.pods} pods: analyzeCluster ${fmtMs(r.analyzeMs)}, total wall ${fmtMs(r.wallMs)}, CPU ${fmtMs(r.cpuMs)}, heap before ${fmtBytes(r.heapBefore)}, peak ${fmtBytes(r.heapPeak)}, RSS peak ${fmtBytes(r.rssPeak)}, after close ${fmtBytes(r.heapAfterClose)}`,
    );
  }

  // Where the time goes: a CPU profile of one 30-pod (or largest) roll per strategy.
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  const profiles: { strategy: string; attribution: ReturnType<typeof attribute> }[] = [];
  for (const sc of STRATEGIES) {
    const { profile } = await roll(sc, largest, session);
    profiles.push({ strategy: sc.short, attribution: attribute(profile!) });
  }
  session.disconnect();
  console.log(`\n    Where the CPU goes (sampling profile of one ${largest}-pod roll; self time, idle excluded):`);
  for (const p of profiles) {
    const tot = p.attribution.totalUs;
    console.log(`    ${p.strategy}: ${fmtMs(tot / 1000)} sampled`);
    console.log(
      table(
        ['category', 'self', '%'],
        p.attribution.categories.map(([c, us]) => [c, fmtMs(us / 1000), ((100 * us) / tot).toFixed(1)]),
        '      ',
      ),
    );
    console.log(
      table(
        ['top functions', 'self', '%'],
        p.attribution.functions
          .slice(0, 8)
          .map(([c, us]) => [c.slice(0, 90), fmtMs(us / 1000), ((100 * us) / tot).toFixed(1)]),
        '      ',
      ),
    );
  }

  // (b)
  const samples = quick ? 50 : 200;
  const latIdle = await reactionLatency(samples, false);
  const latBusy = await reactionLatency(samples, true);
  console.log(
    `\n(b) reaction latency through watchPod (FakeKube delivers by setImmediate), ${samples} samples each; requirement: within 250 ms`,
  );
  const latRows = [
    ...latIdle.map((l) => ({ ...l, load: 'idle loop' })),
    ...latBusy.map((l) => ({ ...l, load: 'busy loop (2 ms CPU / 5 ms)' })),
  ];
  console.log(
    table(
      ['event', 'event loop', 'noticed p50', 'p95', 'max', 'waitForPod resolved p50', 'p95', 'max'],
      latRows.map((l) => [
        l.what,
        l.load,
        fmtMs(percentile(l.notifiedUs, 50) / 1000),
        fmtMs(percentile(l.notifiedUs, 95) / 1000),
        fmtMs(Math.max(...l.notifiedUs) / 1000),
        fmtMs(percentile(l.resolvedUs, 50) / 1000),
        fmtMs(percentile(l.resolvedUs, 95) / 1000),
        fmtMs(Math.max(...l.resolvedUs) / 1000),
      ]),
    ),
  );
  console.log('    For comparison: CrateDB state is polled every 1 s (pollIntervalMs: mean wait 500 ms, worst 1 s);');
  console.log(
    '    the health gate reads 3 times 2 s apart (>= 4 s per gate); crate-operator polls every 15-30 s (mean wait 7.5-15 s).',
  );

  // (c)
  const rounds = quick ? 1000 : 10_000;
  const det = detectionThroughput(rounds);
  console.log(
    `\n(c) detectStrategy over the ${det.manifests} StatefulSets in test/fixtures/statefulsets x ${rounds}: ${det.totalCalls} calls in ${fmtMs(det.totalMs)} = ${Math.round(det.totalCalls / (det.totalMs / 1000)).toLocaleString('en')} calls/s, ${((det.totalMs * 1000) / det.totalCalls).toFixed(1)} us/call (heap grew ${fmtBytes(det.heapGrowth)} before GC)`,
  );
  console.log(
    table(
      ['manifest', 'strategy', 'us/call', 'calls/s'],
      det.rows.map((r) => [r.file, r.strategy, r.perCallUs.toFixed(1), Math.round(r.callsPerSec).toLocaleString('en')]),
    ),
  );

  writeResult('engine', {
    node: process.version,
    quick,
    rolls,
    direct,
    profiles,
    latency: latRows.map((l) => ({
      what: l.what,
      load: l.load,
      samples: l.samples,
      notifiedUs: summary(l.notifiedUs),
      resolvedUs: summary(l.resolvedUs),
    })),
    detection: { ...det, sink: undefined },
  });
}

function summary(xs: number[]) {
  return { p50: percentile(xs, 50), p95: percentile(xs, 95), max: Math.max(...xs), min: Math.min(...xs) };
}

await main();
