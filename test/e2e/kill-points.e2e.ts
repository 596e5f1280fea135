// Ten random kill points on the real control plane (issue 8, "A crash at any moment"): the runner (the Job's pod,
// its process SIGKILLed: no cleanup) is killed at randomly chosen points of six runs, and the Job's retry (a new
// runner, same operation id) must resume. The runs (at once, own namespaces and simulated clusters):
//   rollout, manual strategy (3 kills); rollout, dc_util preStop (3 kills);
//   decommission <pod> and restart <pod>, each manual and dc_util (1 kill each).
// (A Job allows 3 retries, backoffLimit 3. A single-pod run gets one kill: its retry may have nothing left but
// closing, which takes too little time to be hit again.)
// A kill point is a mark of the run as the Lease's progress shows it (the Lease held before any pod, then per pod:
// manual started / decommission-sent / deleting / deleted / done; dc_util deleting / deleted / done) plus a random
// delay of 0-1.5 s after it is first seen. Points are drawn with a seeded RNG: the seed and the points are printed,
// and `E2E_KILL_SEED=<seed> /work/tools/e2e.sh test/e2e/kill-points.e2e.ts` draws the same ones again (the cluster's
// timing still varies, so the step actually hit is printed too). A later kill waits until the retry holds the
// Lease (the holder changed), so each kill interrupts a runner that resumed; two points may be the same mark (a
// retry killed again where its predecessor died).
// After each run: exit 0, one failed runner pod per kill, no node process decommissioned twice (the simulator's
// history: between two decommissions of a node it rejoined), only the targets decommissioned, never two nodes down
// at once (draining or gone, from the history), every pod re-created exactly once, no unavailable primary
// (invariant recorder), allocation reset and graceful_stop restored, the Lease released, the StatefulSet's
// dc-util-* labels as before.
// Bounded: at most 3 kills per run (the Job's backoff adds 10 + 20 + 40 s), 8 minutes per test; about 4 minutes
// for the file in practice.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CDK_STATE,
  RUNNER_IMAGE,
  eventually,
  kubectl,
  kubectlJson,
  leases,
  pluginOk,
  pluginStart,
  simState,
  type LeaseView,
} from './harness.js';
import { FAST_FLAGS, expectClusterSafe, expectRecreatedOnce, nodeOf, scenario, type Scenario } from './scenario.js';

const made: Scenario[] = [];
afterAll(async () => {
  for (const s of made) await s.drop();
});

/** mulberry32: a small seeded PRNG (uniform in [0, 1)). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = process.env.E2E_KILL_SEED ? Number(process.env.E2E_KILL_SEED) : Date.now() % 2 ** 31;
const random = rng(SEED);
const pick = (n: number) => Math.floor(random() * n);

const MANUAL_STEPS = ['started', 'decommission-sent', 'deleting', 'deleted', 'done'];
const DCUTIL_STEPS = ['deleting', 'deleted', 'done'];

interface Run {
  name: string;
  prefix: string;
  op: 'rollout' | 'decommission' | 'restart';
  dcUtil: boolean;
  kills: number;
}

const RUNS: Run[] = [
  { name: 'rollout, manual', prefix: 'e2e-kill-roll-m', op: 'rollout', dcUtil: false, kills: 3 },
  { name: 'rollout, dc_util', prefix: 'e2e-kill-roll-d', op: 'rollout', dcUtil: true, kills: 3 },
  { name: 'decommission <pod>, manual', prefix: 'e2e-kill-dec-m', op: 'decommission', dcUtil: false, kills: 1 },
  { name: 'decommission <pod>, dc_util', prefix: 'e2e-kill-dec-d', op: 'decommission', dcUtil: true, kills: 1 },
  { name: 'restart <pod>, manual', prefix: 'e2e-kill-rst-m', op: 'restart', dcUtil: false, kills: 1 },
  { name: 'restart <pod>, dc_util', prefix: 'e2e-kill-rst-d', op: 'restart', dcUtil: true, kills: 1 },
];

interface KillPoint {
  mark: number;
  label: string;
  delayMs: number;
}

/** The marks of a run in order: 0 = the Lease held, no pod begun; then each pod's steps. */
function marksOf(run: Run): string[] {
  const steps = run.dcUtil ? DCUTIL_STEPS : MANUAL_STEPS;
  const pods = run.op === 'rollout' ? 3 : 1;
  const marks = ['lease-held'];
  for (let p = 1; p <= pods; p++) for (const s of steps) marks.push(`pod ${p}/${pods} ${s}`);
  // A single decommission has little left after the drain: dc_util closes once the pod is gone (deleted, done), the
  // manual strategy waits only for the pod to be back (often under the 1.5 s delay: the runner would be gone
  // before the kill). No points there.
  if (run.op === 'decommission') marks.splice(run.dcUtil ? -2 : -3);
  return marks;
}

/** Drawn in the order of RUNS, so a seed gives the same points whatever order the runs finish in. */
const PLAN = RUNS.map((run) => {
  const marks = marksOf(run);
  const points: KillPoint[] = Array.from({ length: run.kills }, () => ({
    mark: pick(marks.length),
    label: '',
    delayMs: pick(1500),
  }))
    .sort((a, b) => a.mark - b.mark)
    .map((p) => ({ ...p, label: marks[p.mark]! }));
  const pod = run.op === 'rollout' ? null : pick(3);
  return { run, marks, points, pod };
});
console.log(
  `kill points (E2E_KILL_SEED=${SEED}):\n` +
    PLAN.map(
      (p) =>
        `  ${p.run.name}${p.pod !== null ? ` (pod ordinal ${p.pod})` : ''}: ${p.points.map((k) => `${k.label} +${k.delayMs}ms`).join(', ')}`,
    ).join('\n'),
);

/** Where the run is, as a mark index (see marksOf), from the Lease's progress. */
function markOf(lease: LeaseView | undefined, steps: string[]): number | null {
  if (!lease?.holder) return null;
  const done = Object.keys(lease.progress?.done ?? {});
  const cur = lease.progress?.current;
  if (cur && !done.includes(cur.pod)) {
    const i = steps.indexOf(cur.step);
    return i < 0 ? null : done.length * steps.length + i + 1;
  }
  return done.length ? (done.length - 1) * steps.length + steps.length : 0;
}

async function runnerPods(namespace: string): Promise<any[]> {
  return (await kubectlJson(['get', 'pods', '-n', namespace, '-l', 'app.kubernetes.io/name=crate-decommission'])).items;
}

function runnerPid(pod: any): number | null {
  try {
    const pid = Number(readFileSync(`${CDK_STATE}/pods/${pod.metadata.uid}/runner/pid`, 'utf8').trim());
    return pid > 1 ? pid : null;
  } catch {
    return null;
  }
}

/** The most nodes down at one moment (decommission started or left, until joined again), from the history. */
function maxDown(history: Array<{ what: string }>): { max: number; at: string } {
  const down = new Set<string>();
  let max = 0;
  let at = '';
  for (const { what } of history) {
    let m: RegExpExecArray | null;
    if ((m = /^node (\S+) \(\S+\) joined/.exec(what))) down.delete(m[1]!);
    else if ((m = /^node (\S+) \(\S+\) left/.exec(what))) down.add(m[1]!);
    else if ((m = /^decommission of (\S+) started/.exec(what))) down.add(m[1]!);
    else if ((m = /^decommission of (\S+)(?: aborted|: Aborting graceful shutdown)/.exec(what))) down.delete(m[1]!);
    if (down.size > max) {
      max = down.size;
      at = `${what} (down: ${[...down].join(', ')})`;
    }
  }
  return { max, at };
}

/** Decommissions per node from the history, and those sent to a node process that was decommissioned already. */
function decommissionsPerProcess(history: Array<{ what: string }>): { count: Record<string, number>; twice: string[] } {
  const count: Record<string, number> = {};
  const drained = new Set<string>();
  const twice: string[] = [];
  for (const { what } of history) {
    let m: RegExpExecArray | null;
    if ((m = /^node (\S+) \(\S+\) joined/.exec(what))) drained.delete(m[1]!);
    else if ((m = /^decommission of (\S+) started/.exec(what))) {
      count[m[1]!] = (count[m[1]!] ?? 0) + 1;
      if (drained.has(m[1]!)) twice.push(what);
      drained.add(m[1]!);
    }
  }
  return { count, twice };
}

/**
 * What a stuck run looks like, for the failure message (CI keeps only the output): the plugin's output, the Job's and
 * its pods' states, each runner pod's log tail, the Lease, the simulator's last history lines.
 */
async function stuckReport(namespace: string, cluster: string, pluginOutput: string): Promise<string> {
  const parts = [`--- plugin output:\n${pluginOutput.slice(-4000)}`];
  const get = async (args: string[]) => {
    const r = await kubectl(args);
    return (r.stdout + r.stderr).trim();
  };
  parts.push(`--- jobs and pods:\n${await get(['get', 'jobs,pods', '-n', namespace, '-o', 'wide'])}`);
  for (const pod of await runnerPods(namespace).catch(() => [])) {
    const log = await get(['logs', pod.metadata.name, '-n', namespace, '--tail', '40']);
    parts.push(`--- log of ${pod.metadata.name} (${pod.status?.phase}):\n${log}`);
  }
  parts.push(`--- Lease: ${JSON.stringify(await leases(namespace).catch((e) => String(e)))}`);
  const history = (await simState(cluster).catch(() => ({ history: [] }))).history ?? [];
  parts.push(
    `--- simulator history (last 25):\n${history
      .slice(-25)
      .map((h: any) => h.what)
      .join('\n')}`,
  );
  return parts.join('\n');
}

/** The plugin's end, or (after ms) an error naming the seed, the kills so far and what the run looked like. */
async function doneWithin<T>(done: Promise<T>, ms: number, describe: () => Promise<string>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), ms)));
  const r = await Promise.race([done, late]).finally(() => clearTimeout(timer));
  if (r === 'late')
    throw new Error(`the run did not end within ${ms / 1000} s after the last kill\n${await describe()}`);
  return r as T;
}

const dcUtilLabels = async (ns: string, sts: string) =>
  Object.fromEntries(
    Object.entries((await kubectlJson(['get', 'sts', sts, '-n', ns])).metadata.labels ?? {}).filter(([k]) =>
      k.startsWith('dc-util-'),
    ),
  );

describe.concurrent.each(PLAN)('runner SIGKILLed at random points: $run.name', ({ run, points, pod: ordinal }) => {
  it(`the Job's retries resume: each node decommissioned once, never two down, pods re-created once, settings and Lease back (bounded: 8 min)`, async () => {
    const started = Date.now();
    const s = await scenario(run.prefix, { dcUtil: run.dcUtil });
    made.push(s);
    await pluginOk(['rbac', 'install', '-n', s.namespace]);
    const labelsBefore = await dcUtilLabels(s.namespace, s.sts);
    const targets = ordinal === null ? s.pods : [s.pods[ordinal]!];
    const args = run.op === 'rollout' ? ['rollout', `sts/${s.sts}`] : [run.op, targets[0]!];
    // decommission has no --pod-ready-timeout (it does not wait for the pod to be Ready).
    const flags = run.op === 'decommission' ? ['--timeout', '120s', '--health-timeout', '120s'] : FAST_FLAGS;
    const proc = pluginStart([...args, '-n', s.namespace, '--image', RUNNER_IMAGE, ...flags]);
    const steps = run.dcUtil ? DCUTIL_STEPS : MANUAL_STEPS;
    const killed = new Set<string>();
    const hits: string[] = [];
    let lastHolder: string | null = null;
    let ended = false;
    void proc.done.then(() => (ended = true));

    // Failure messages name the seed and the kills so far, and show the run's state (CI keeps only the output).
    const context = async () =>
      `E2E_KILL_SEED=${SEED}, ${Math.round((Date.now() - started) / 1000)} s in, kills: ${hits.join('; ') || 'none'}\n` +
      (await stuckReport(s.namespace, s.cluster, proc.output()));
    for (const point of points) {
      // Wait for the mark, on a runner that has not been killed and (after a kill) has taken the Lease over.
      const victim = await eventually(
        `${point.label} on a live runner`,
        async () => {
          if (ended) return 'ended';
          const lease = (await leases(s.namespace))[0];
          const mark = markOf(lease, steps);
          if (mark === null || mark < point.mark || lease!.holder === lastHolder) return null;
          const live = (await runnerPods(s.namespace)).filter(
            (p) => p.status?.phase === 'Running' && !killed.has(p.metadata.uid),
          );
          return live.length === 1 && runnerPid(live[0]) ? live[0] : null;
        },
        240_000,
        100,
      ).catch(async (err: Error) => {
        throw new Error(`${err.message}\n${await context()}`);
      });
      if (victim === 'ended') throw new Error(`the run ended before ${point.label}\n${await context()}`);
      await new Promise((r) => setTimeout(r, point.delayMs));
      const pid = runnerPid(victim);
      expect(pid, `pid of runner ${victim.metadata.name}`).toBeTruthy();
      process.kill(pid!, 'SIGKILL');
      killed.add(victim.metadata.uid);
      const lease = (await leases(s.namespace))[0];
      lastHolder = lease?.holder ?? null;
      const at = lease?.progress?.current
        ? `${lease.progress.current.pod} ${lease.progress.current.step}`
        : `none current, done ${Object.keys(lease?.progress?.done ?? {}).join(',') || '-'}`;
      hits.push(`${point.label} +${point.delayMs}ms -> killed ${victim.metadata.name} at ${at}`);
    }
    console.log(`${run.name} (E2E_KILL_SEED=${SEED}):\n  ${hits.join('\n  ')}`);

    // Bounded so a stuck run fails with its state rather than at the test's timeout with nothing to go on: what is
    // left of the 8 minutes, less a minute for the checks below.
    const r = await doneWithin(proc.done, Math.max(30_000, 420_000 - (Date.now() - started)), context).catch((err) => {
      if (proc.pid) process.kill(proc.pid, 'SIGTERM'); // the plugin follows a Job that is left to the namespace's drop
      throw err;
    });
    const out = r.stdout + r.stderr;
    expect(r.code, `${hits.join('\n')}\n${out}`).toBe(0);
    expect(hits).toHaveLength(run.kills);
    // One runner pod per kill, and the retry that finished.
    // The plugin ends with the runner's exit; the Job controller marks the Job Complete a moment later.
    const job = await eventually(
      'the runner Job to be Complete',
      async () => {
        const j = (
          await kubectlJson(['get', 'jobs', '-n', s.namespace, '-l', 'app.kubernetes.io/name=crate-decommission'])
        ).items[0];
        return j?.status?.succeeded === 1 ? j : null;
      },
      30_000,
    );
    expect(job.status.failed, 'failed runner pods').toBe(run.kills);

    if (run.op === 'decommission') {
      // The StatefulSet controller re-creates the decommissioned pod (decommission does not wait for it): wait for
      // it before counting UIDs.
      await eventually(
        `${targets[0]} back and Ready`,
        async () =>
          s.uids.uids(targets[0]!).length === 2 &&
          (await kubectlJson(['get', 'pod', targets[0]!, '-n', s.namespace])).status?.conditions?.some(
            (c: any) => c.type === 'Ready' && c.status === 'True',
          ),
        120_000,
      );
    }
    expectRecreatedOnce(s, targets);
    // No node PROCESS decommissioned twice: a node whose container restarted in place after its drain (the kubelet
    // restarts an exited container before the killed runner's retry can delete the pod) rejoins as a fresh process,
    // which the retry drains again before deleting the pod (docs/engine.md, Lock and resume); between two
    // decommissions of a node it must have rejoined. Every target drained, no other node.
    const history = (await simState(s.cluster)).history ?? [];
    const perProcess = decommissionsPerProcess(history);
    expect(perProcess.twice, 'decommissioned twice without a rejoin in between').toEqual([]);
    expect(Object.keys(perProcess.count).sort(), 'nodes decommissioned').toEqual(targets.map(nodeOf).sort());
    await expectClusterSafe(s);
    const down = maxDown(history);
    expect(down.max, `nodes down at once: ${down.at}`).toBeLessThanOrEqual(1);
    expect(
      (await leases(s.namespace)).map((l) => l.holder),
      'Lease holders',
    ).toEqual([null]);
    expect(await dcUtilLabels(s.namespace, s.sts), 'dc-util-* labels of the StatefulSet').toEqual(labelsBefore);
  }, 480_000);
});
