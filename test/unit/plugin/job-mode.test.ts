// Job mode against a fake cluster: prerequisites, the Job created, log streaming across a retried Job,
// the result from terminated.message, detach on Ctrl-C, re-attach, cancel, list.
import { describe, expect, it, vi } from 'vitest';
import type { V1Job } from '@kubernetes/client-node';
import {
  buildJobForTask,
  cancelJob,
  checkJobPrerequisites,
  followJob,
  listJobs,
  outcomeOf,
  resolveTarget,
} from '../../../plugin/job-mode.js';
import { buildTask, parseTarget } from '../../../shared/task/index.js';
import { listrProgress, plainProgress, podMentioned, type ProgressSink } from '../../../plugin/progress.js';
import { colors } from '../../../plugin/io.js';
import { runCli } from '../../../plugin/cli.js';
import { BadInputError } from '../../../shared/errors.js';
import { CaptureWriter, FakePluginKube, installRunnerRbac, runnerPod, statefulSet, testContext } from './helpers.js';

const NS = 'crate';
const JOB = 'crate-decommission-rollout-crate-abcde';

function job(
  name = JOB,
  conditions: Array<{ type: string; status: string; reason?: string; message?: string }> = [],
): V1Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      namespace: NS,
      labels: {
        'app.kubernetes.io/name': 'crate-decommission',
        'crate-decommission.crate.io/operation': 'rollout',
        'crate-decommission.crate.io/cluster': 'crate',
      },
    },
    spec: { template: { spec: { containers: [] } } },
    status: { conditions: conditions.map((c) => ({ ...c, lastTransitionTime: new Date() })) },
  } as V1Job;
}

function recorder(): ProgressSink & { events: string[] } {
  const events: string[] = [];
  return {
    events,
    runnerPod: (p, a) => void events.push(`pod ${p} #${a}`),
    status: (m) => void events.push(`status ${m}`),
    line: (l) => void events.push(`line ${l}`),
    close: async () => undefined,
  };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const tick = () => new Promise((r) => setTimeout(r, 5));

const logLine = (msg: string, fields: Record<string, unknown> = {}) =>
  JSON.stringify({ ts: '2026-01-01T00:00:00.000Z', level: 'info', msg, ...fields });

describe('followJob', () => {
  it('streams the pod log, then reads the result from terminated.message and exits with its code', async () => {
    const kube = new FakePluginKube();
    kube.put(job());
    const end = deferred();
    kube.logs.set(`${NS}/${JOB}-aaaaa`, {
      lines: [logLine('Using manual decommission for pod crate-0', { pod: 'crate-0', step: 'decommission' })],
      end: end.promise,
    });
    kube.put(runnerPod(NS, JOB, `${JOB}-aaaaa`, { running: true }));
    const progress = recorder();
    const follow = followJob({ kube, namespace: NS, jobName: JOB, progress, signal: new AbortController().signal });
    await tick();
    expect(progress.events).toContain(`pod ${JOB}-aaaaa #1`);
    expect(progress.events.some((e) => e.includes('Using manual decommission'))).toBe(true);
    const result = { cluster: 'crate', success: true, pods: [], exitCode: 0 };
    kube.put(runnerPod(NS, JOB, `${JOB}-aaaaa`, { terminated: { exitCode: 0, message: JSON.stringify(result) } }));
    end.resolve();
    const outcome = await follow;
    expect(outcome).toMatchObject({ detached: false, exitCode: 0, result, failure: null, pods: [`${JOB}-aaaaa`] });
    expect(kube.observing).toBe(0);
  });

  it("prefers the full result of the runner's last log line over the 4 KiB termination summary (a plan cut to names)", async () => {
    const kube = new FakePluginKube();
    kube.put(job());
    const end = deferred();
    const full = {
      success: true,
      plan: {
        order: [{ podName: 'crate-0', nodeName: 'data-hot-0', strategy: 'manual' }],
        preflight: { healthy: true, nodeCount: 3, expectedNodes: 3 },
      },
    };
    kube.logs.set(`${NS}/${JOB}-aaaaa`, {
      lines: [logLine('runner finished with exit code 0', { step: 'runner', exitCode: 0, result: full })],
      end: end.promise,
    });
    kube.put(runnerPod(NS, JOB, `${JOB}-aaaaa`, { running: true }));
    const follow = followJob({
      kube,
      namespace: NS,
      jobName: JOB,
      progress: recorder(),
      signal: new AbortController().signal,
    });
    await tick();
    // What runner/termination.ts's summary keeps of a plan too big for 4 KiB: the order as pod names only.
    const summary = {
      operation: 'plan',
      namespace: NS,
      target: 'statefulset/crate',
      success: true,
      plan: { order: ['crate-0'], preflightFailedChecks: [] },
      exitCode: 0,
    };
    kube.put(runnerPod(NS, JOB, `${JOB}-aaaaa`, { terminated: { exitCode: 0, message: JSON.stringify(summary) } }));
    end.resolve();
    const outcome = await follow;
    expect(outcome.exitCode).toBe(0);
    expect(outcome.result).toEqual({ ...summary, ...full });
  });

  it("keeps the termination result when the log line's result is from an earlier runner pod", async () => {
    const kube = new FakePluginKube();
    kube.put(job());
    const end1 = deferred();
    const end2 = deferred();
    kube.logs.set(`${NS}/${JOB}-first`, {
      lines: [
        logLine('runner finished with exit code 1', {
          step: 'runner',
          exitCode: 1,
          result: { success: false, stale: true },
        }),
      ],
      end: end1.promise,
    });
    kube.put(runnerPod(NS, JOB, `${JOB}-first`, { running: true }, 1));
    const follow = followJob({
      kube,
      namespace: NS,
      jobName: JOB,
      progress: recorder(),
      signal: new AbortController().signal,
    });
    await tick();
    kube.put(runnerPod(NS, JOB, `${JOB}-first`, { terminated: { exitCode: 1, message: '{"success":false}' } }, 1));
    end1.resolve();
    kube.logs.set(`${NS}/${JOB}-second`, { lines: [], end: end2.promise });
    kube.put(runnerPod(NS, JOB, `${JOB}-second`, { running: true }, 2));
    await tick();
    kube.put(runnerPod(NS, JOB, `${JOB}-second`, { terminated: { exitCode: 0, message: '{"success":true}' } }, 2));
    end2.resolve();
    const outcome = await follow;
    expect(outcome.result).toEqual({ success: true });
  });

  it('follows the next pod when the Job retries after a crashed runner, and exits with the last runner code', async () => {
    const kube = new FakePluginKube();
    kube.put(job());
    const end1 = deferred();
    const end2 = deferred();
    kube.logs.set(`${NS}/${JOB}-first`, {
      lines: [logLine('restarting pod crate-2', { pod: 'crate-2' })],
      end: end1.promise,
    });
    kube.logs.set(`${NS}/${JOB}-second`, {
      lines: [logLine('pod crate-2 already restarted by this operation: skipped', { pod: 'crate-2' })],
      end: end2.promise,
    });
    kube.put(runnerPod(NS, JOB, `${JOB}-first`, { running: true }, 1));
    const progress = recorder();
    const follow = followJob({ kube, namespace: NS, jobName: JOB, progress, signal: new AbortController().signal });
    await tick();
    // The runner crashes (OOM): exit 137, no JSON written.
    kube.put(runnerPod(NS, JOB, `${JOB}-first`, { terminated: { exitCode: 137, reason: 'OOMKilled' } }, 1));
    end1.resolve();
    await tick();
    // The Job controller creates a replacement pod, pending first, then running.
    kube.put(runnerPod(NS, JOB, `${JOB}-second`, { waiting: 'ContainerCreating' }, 2));
    await tick();
    expect(kube.streamed).toEqual([`${JOB}-first`]);
    kube.put(runnerPod(NS, JOB, `${JOB}-second`, { running: true }, 2));
    await tick();
    expect(kube.streamed).toEqual([`${JOB}-first`, `${JOB}-second`]);
    const failed = { success: false, error: 'Cluster unhealthy: RED', errorKind: 'refused', exitCode: 3 };
    kube.put(
      runnerPod(
        NS,
        JOB,
        `${JOB}-second`,
        { terminated: { exitCode: 3, message: JSON.stringify(failed), reason: 'Error' } },
        2,
      ),
    );
    kube.put(job(JOB, [{ type: 'Failed', status: 'True', reason: 'PodFailurePolicy' }]));
    end2.resolve();
    const outcome = await follow;
    expect(outcome.exitCode).toBe(3);
    expect(outcome.result).toEqual(failed);
    expect(outcome.pods).toEqual([`${JOB}-first`, `${JOB}-second`]);
    expect(progress.events.filter((e) => e.startsWith('pod '))).toEqual([
      `pod ${JOB}-first #1`,
      `pod ${JOB}-second #2`,
    ]);
    expect(progress.events.some((e) => e.includes('already restarted'))).toBe(true);
  });

  it('re-attaching replays finished pods in order and ends on the Job condition', async () => {
    const kube = new FakePluginKube();
    kube.put(job(JOB, [{ type: 'Complete', status: 'True' }]));
    kube.logs.set(`${NS}/${JOB}-b`, { lines: ['second'] });
    kube.logs.set(`${NS}/${JOB}-a`, { lines: ['first'] });
    kube.put(runnerPod(NS, JOB, `${JOB}-b`, { terminated: { exitCode: 0, message: '{"success":true}' } }, 9));
    kube.put(runnerPod(NS, JOB, `${JOB}-a`, { terminated: { exitCode: 1, message: '{"success":false}' } }, 3));
    const progress = recorder();
    const outcome = await followJob({
      kube,
      namespace: NS,
      jobName: JOB,
      progress,
      signal: new AbortController().signal,
    });
    expect(kube.streamed).toEqual([`${JOB}-a`, `${JOB}-b`]);
    expect(progress.events.filter((e) => e.startsWith('line '))).toEqual(['line first', 'line second']);
    expect(outcome.exitCode).toBe(0);
  });

  it('Ctrl-C detaches: the Job is left alone', async () => {
    const kube = new FakePluginKube();
    kube.put(job());
    kube.logs.set(`${NS}/${JOB}-a`, { lines: ['x'], end: new Promise(() => undefined) });
    kube.put(runnerPod(NS, JOB, `${JOB}-a`, { running: true }));
    const abort = new AbortController();
    const follow = followJob({ kube, namespace: NS, jobName: JOB, progress: recorder(), signal: abort.signal });
    await tick();
    abort.abort();
    const outcome = await follow;
    expect(outcome.detached).toBe(true);
    expect(outcome.exitCode).toBe(130);
    expect(kube.writes).toEqual([]);
  });

  it('a Job past its deadline is a timeout (exit 4)', async () => {
    const kube = new FakePluginKube();
    kube.put(job());
    kube.logs.set(`${NS}/${JOB}-a`, { lines: [] });
    kube.put(
      runnerPod(NS, JOB, `${JOB}-a`, { terminated: { exitCode: 143, reason: 'Error', message: 'tail of the log' } }),
    );
    kube.put(
      job(JOB, [
        {
          type: 'Failed',
          status: 'True',
          reason: 'DeadlineExceeded',
          message: 'Job was active longer than specified deadline',
        },
      ]),
    );
    const outcome = await followJob({
      kube,
      namespace: NS,
      jobName: JOB,
      progress: recorder(),
      signal: new AbortController().signal,
    });
    expect(outcome.exitCode).toBe(4);
    expect(outcome.failure).toMatch(/deadline/);
  });

  it('a deleted Job ends the follow with exit 1', async () => {
    const kube = new FakePluginKube();
    kube.put(job());
    const follow = followJob({
      kube,
      namespace: NS,
      jobName: JOB,
      progress: recorder(),
      signal: new AbortController().signal,
    });
    await tick();
    kube.remove('batch/v1', 'Job', NS, JOB);
    const outcome = await follow;
    expect(outcome.exitCode).toBe(1);
    expect(outcome.failure).toMatch(/deleted/);
  });

  it('reports a runner pod that cannot start (ImagePullBackOff) once', async () => {
    const kube = new FakePluginKube();
    kube.put(job());
    kube.put(runnerPod(NS, JOB, `${JOB}-a`, { waiting: 'ImagePullBackOff' }));
    const progress = recorder();
    const abort = new AbortController();
    const follow = followJob({ kube, namespace: NS, jobName: JOB, progress, signal: abort.signal });
    await tick();
    kube.put(runnerPod(NS, JOB, `${JOB}-a`, { waiting: 'ImagePullBackOff' }));
    await tick();
    abort.abort();
    await follow;
    expect(progress.events.filter((e) => e.includes('ImagePullBackOff'))).toHaveLength(1);
  });
});

describe("the runner's result from its termination message", () => {
  it.each([
    ['{"success":true,"exitCode":0}', { success: true, exitCode: 0 }],
    ['  {"a":1}\n', { a: 1 }],
    ['', null],
    [undefined, null],
    ['panic: something\n{"not":"at start"}', null],
    ['{"truncated', null],
    ['[1,2]', null],
  ])('%j', (message, expected) => {
    // A runner that exited 0 with this message: the result the plugin reads from it.
    const last = { podName: 'runner-x', exitCode: 0, reason: null, message: message ?? null };
    expect(outcomeOf(null, last, ['runner-x']).result).toEqual(expected);
  });
});

describe('prerequisites and target', () => {
  const task = buildTask({
    operation: 'rollout',
    namespace: NS,
    target: parseTarget('sts/crate', 'statefulset'),
    dryRun: false,
    raw: {},
  });

  it('a missing target is bad input naming it', async () => {
    const kube = new FakePluginKube();
    await expect(resolveTarget(kube, task)).rejects.toThrow(/StatefulSet crate\/crate not found/);
    await expect(resolveTarget(kube, task)).rejects.toBeInstanceOf(BadInputError);
  });

  it('a pod resolves to its StatefulSet', async () => {
    const kube = new FakePluginKube();
    kube.put({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'crate-1',
        namespace: NS,
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'crate', uid: 'u' }],
      },
    });
    const restart = buildTask({
      operation: 'restart',
      namespace: NS,
      target: parseTarget('crate-1', 'pod'),
      dryRun: false,
      raw: {},
    });
    expect(await resolveTarget(kube, restart)).toEqual({ cluster: 'crate', pods: 1 });
  });

  it('refuses when the user may not create Jobs', async () => {
    const kube = new FakePluginKube();
    kube.allowed = (r) => !(r.verb === 'create' && r.resource === 'jobs');
    await expect(checkJobPrerequisites(kube, NS)).rejects.toThrow(
      /may not create jobs.batch in namespace crate.*--local/,
    );
  });

  it('says how to install the RBAC when the ServiceAccount is missing', async () => {
    const kube = new FakePluginKube();
    await expect(checkJobPrerequisites(kube, NS)).rejects.toThrow(
      'run: kubectl crate-decommission rbac install -n crate',
    );
  });

  it('accepts a cluster-wide binding', async () => {
    const kube = new FakePluginKube();
    kube.put({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'crate-decommission', namespace: NS } });
    kube.put({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'crate-decommission-crate-crate-decommission' },
    });
    expect(await checkJobPrerequisites(kube, NS)).toEqual([]);
  });
});

describe('the Job', () => {
  it('is named, labelled and carries the runner args with --operation-id = its name', () => {
    const task = buildTask({
      operation: 'rollout',
      namespace: NS,
      target: parseTarget('sts/crate', 'statefulset'),
      dryRun: false,
      raw: { timeout: '20m' },
    });
    const j = buildJobForTask(task, { cluster: 'crate', pods: 3 }, { suffix: 'x7k2p' });
    expect(j.metadata?.name).toBe('crate-decommission-rollout-crate-x7k2p');
    expect(j.metadata?.labels).toMatchObject({
      'app.kubernetes.io/name': 'crate-decommission',
      'crate-decommission.crate.io/cluster': 'crate',
      'crate-decommission.crate.io/operation': 'rollout',
    });
    const args = j.spec?.template.spec?.containers[0]?.args ?? [];
    expect(args.slice(0, 4)).toEqual(['rollout', 'statefulset/crate', '--namespace', NS]);
    expect(args).toContain('1200s');
    expect(args.slice(-2)).toEqual(['--operation-id', 'crate-decommission-rollout-crate-x7k2p']);
    expect(j.spec?.template.spec?.restartPolicy).toBe('Never');
    expect(j.spec?.activeDeadlineSeconds).toBeGreaterThan(3 * (1200 + 600 + 900));
  });

  it('names stay within 63 characters', () => {
    const task = buildTask({
      operation: 'decommission',
      namespace: NS,
      target: parseTarget('crate-data-hot-6a0c7a1e-2f3b-4c5d-8e9f-0a1b2c3d4e5f-0', 'pod'),
      dryRun: false,
      raw: {},
    });
    const cluster = 'crate-data-hot-6a0c7a1e-2f3b-4c5d-8e9f-0a1b2c3d4e5f';
    const name = buildJobForTask(task, { cluster, pods: 1 }, { suffix: 'abcde' }).metadata!.name!;
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(/^crate-decommission-decommission-crate-data-hot-.*[a-z0-9]-abcde$/);
  });
});

describe('cancel and list', () => {
  it('cancel deletes the running pod with a grace period first, then the Job with Background propagation', async () => {
    const kube = new FakePluginKube();
    kube.put(job());
    kube.put(runnerPod(NS, JOB, `${JOB}-done`, { terminated: { exitCode: 137 } }));
    kube.put(runnerPod(NS, JOB, `${JOB}-live`, { running: true }));
    const res = await cancelJob(kube, NS, JOB, 90);
    expect(res).toEqual({ found: true, pods: [`${JOB}-live`] });
    expect(kube.deletes.map((d) => [d.ref.kind, d.ref.name, d.opts])).toEqual([
      ['Pod', `${JOB}-live`, { gracePeriodSeconds: 90 }],
      ['Job', JOB, { propagationPolicy: 'Background' }],
    ]);
  });

  it('cancel of an unknown Job says so', async () => {
    expect(await cancelJob(new FakePluginKube(), NS, 'nope')).toEqual({ found: false, pods: [] });
  });

  it('lists runner Jobs with operation, cluster and status', async () => {
    const kube = new FakePluginKube();
    kube.put(job('j-old', [{ type: 'Complete', status: 'True' }]));
    kube.put(job('j-new'));
    kube.put({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'other', namespace: NS } });
    const rows = await listJobs(kube, NS);
    expect(rows.map((r) => [r.name, r.operation, r.cluster, r.status])).toEqual([
      ['j-new', 'rollout', 'crate', 'Pending'],
      ['j-old', 'rollout', 'crate', 'Complete'],
    ]);
  });
});

describe('rollout through the command line (Job mode)', () => {
  function cluster(): FakePluginKube {
    const kube = new FakePluginKube();
    kube.put(statefulSet(NS, 'crate', 3));
    installRunnerRbac(kube, NS);
    return kube;
  }

  it('--dry-run prints the Job YAML and creates nothing', async () => {
    const kube = cluster();
    const ctx = testContext({ kube });
    expect(await runCli(['rollout', 'sts/crate', '-n', NS, '--dry-run', '-o', 'yaml'], ctx)).toBe(0);
    expect(ctx.out.text).toContain('kind: Job');
    expect(ctx.out.text).toContain('name: crate-decommission-rollout-crate-abcde');
    expect(ctx.out.text).toContain('--operation-id');
    // The printed Job is the one a real run creates: its runner does not get --dry-run.
    expect(ctx.out.text).not.toContain('- --dry-run');
    expect(kube.writes).toEqual([]);
  });

  it('creates the Job, follows it and exits with the runner code, printing its result', async () => {
    const kube = cluster();
    const ctx = testContext({ kube });
    const name = 'crate-decommission-rollout-crate-abcde';
    kube.logs.set(`${NS}/${name}-p1`, {
      lines: [logLine('Decommission completed for pod crate-2 using manual strategy', { pod: 'crate-2' })],
    });
    const run = runCli(['rollout', 'crate', '-n', NS, '--yes'], ctx);
    await tick();
    expect(kube.writes).toEqual([`create Job ${NS}/${name}`]);
    const result = {
      cluster: 'crate',
      namespace: NS,
      success: true,
      dryRun: false,
      duration: 12,
      pods: [{ podName: 'crate-2', success: true, strategyUsed: 'manual', duration: 12 }],
    };
    // As the runner writes it: the outcome's kind in `outcome` (shared/task/outcome.ts).
    const message = JSON.stringify({ outcome: 'rollout', ...result });
    kube.put(runnerPod(NS, name, `${name}-p1`, { terminated: { exitCode: 0, message } }));
    expect(await run).toBe(0);
    expect(ctx.out.text).toContain('[crate-2] Decommission completed for pod crate-2 using manual strategy');
    expect(ctx.out.text).toMatch(/rollout of crate\/crate completed/);
    expect(ctx.err.text).toContain(`job.batch/${name} created`);
  });

  it('-o json: raw runner lines on stderr, the result as one JSON document on stdout', async () => {
    const kube = cluster();
    const ctx = testContext({ kube });
    const name = 'crate-decommission-health-crate-abcde';
    const raw = logLine('health check', { step: 'health' });
    kube.logs.set(`${NS}/${name}-p1`, { lines: [raw] });
    kube.put(
      runnerPod(NS, name, `${name}-p1`, {
        terminated: { exitCode: 3, message: JSON.stringify({ healthy: false, failedChecks: ['all_tables_green'] }) },
      }),
    );
    const run = runCli(['health', 'crate', '-n', NS, '-o', 'json', '--job'], ctx);
    await tick();
    // podFailurePolicy: exit 3 fails the Job at once (no retry).
    const created = (await kube.get<V1Job>({ apiVersion: 'batch/v1', kind: 'Job', namespace: NS, name })) as V1Job;
    kube.put({
      ...created,
      status: {
        conditions: [{ type: 'Failed', status: 'True', reason: 'PodFailurePolicy', lastTransitionTime: new Date() }],
      },
    } as V1Job);
    const code = await run;
    expect(code).toBe(3);
    expect(ctx.err.text).toContain(raw);
    expect(JSON.parse(ctx.out.text)).toEqual({ healthy: false, failedChecks: ['all_tables_green'] });
    // A read-only Job leaves nothing behind: deleted once its result was read.
    expect(kube.deletes.map((d) => [d.ref.kind, d.ref.name, d.opts])).toEqual([
      ['Job', name, { propagationPolicy: 'Background' }],
    ]);
    expect(await kube.get({ apiVersion: 'batch/v1', kind: 'Job', namespace: NS, name })).toBeNull();
    expect(created.spec?.ttlSecondsAfterFinished).toBe(300);
  });

  it('Ctrl-C prints how to re-attach and cancel', async () => {
    const kube = cluster();
    const ctx = testContext({ kube });
    const name = 'crate-decommission-rollout-crate-abcde';
    kube.logs.set(`${NS}/${name}-p1`, { lines: [], end: new Promise(() => undefined) });
    const run = runCli(['rollout', 'crate', '-n', NS, '--yes'], ctx);
    await tick();
    kube.put(runnerPod(NS, name, `${name}-p1`, { running: true }));
    await tick();
    ctx.abort.abort();
    expect(await run).toBe(130);
    expect(ctx.err.text).toContain(`kubectl crate-decommission jobs attach ${name} -n ${NS}`);
    expect(kube.objects.has(`batch/v1|Job|${NS}|${name}`)).toBe(true);
  });

  it('without the runner RBAC: exit 2 saying how to install it, no Job', async () => {
    const kube = new FakePluginKube();
    kube.put(statefulSet(NS, 'crate'));
    const ctx = testContext({ kube });
    expect(await runCli(['rollout', 'crate', '-n', NS, '--yes'], ctx)).toBe(2);
    expect(ctx.err.text.trim()).toMatch(/^error: .*run: kubectl crate-decommission rbac install -n crate$/);
    expect(kube.writes).toEqual([]);
  });

  it('a missing StatefulSet: exit 2, no Job', async () => {
    const kube = new FakePluginKube();
    installRunnerRbac(kube, NS);
    const ctx = testContext({ kube });
    expect(await runCli(['rollout', 'sts/nope', '-n', NS, '--yes'], ctx)).toBe(2);
    expect(ctx.err.lines).toHaveLength(1);
    expect(kube.writes).toEqual([]);
  });

  it('jobs cancel via the command line', async () => {
    const kube = cluster();
    kube.put(job());
    kube.put(runnerPod(NS, JOB, `${JOB}-live`, { running: true }));
    const ctx = testContext({ kube });
    expect(await runCli(['jobs', 'cancel', JOB, '-n', NS, '--yes'], ctx)).toBe(0);
    expect(ctx.out.text).toContain(`job.batch/${JOB} deleted`);
    expect(kube.writes).toEqual([`delete Pod ${NS}/${JOB}-live`, `delete Job ${NS}/${JOB}`]);
  });

  it('rbac install is idempotent (create, then configure)', async () => {
    const kube = new FakePluginKube();
    const ctx = testContext({ kube });
    expect(await runCli(['rbac', 'install', '-n', NS], ctx)).toBe(0);
    expect(ctx.out.lines).toEqual([
      'serviceaccount/crate-decommission created',
      'role.rbac.authorization.k8s.io/crate-decommission created',
      'rolebinding.rbac.authorization.k8s.io/crate-decommission created',
    ]);
    const again = testContext({ kube });
    expect(await runCli(['rbac', 'install', '-n', NS], again)).toBe(0);
    expect(again.out.lines.every((l) => l.endsWith(' configured'))).toBe(true);
    const un = testContext({ kube });
    expect(await runCli(['rbac', 'uninstall', '-n', NS, '--yes'], un)).toBe(0);
    expect(un.out.lines[0]).toBe('rolebinding.rbac.authorization.k8s.io/crate-decommission deleted');
  });

  it('schedule create makes a Forbid CronJob running the rollout', async () => {
    const kube = cluster();
    const ctx = testContext({ kube });
    expect(
      await runCli(
        ['schedule', 'create', 'crate', '-n', NS, '--schedule', '0 3 * * 0', '--time-zone', 'Europe/Vienna'],
        ctx,
      ),
    ).toBe(0);
    const cron = await kube.get<
      {
        spec: {
          schedule: string;
          timeZone: string;
          concurrencyPolicy: string;
          jobTemplate: { spec: { template: { spec: { containers: Array<{ args: string[] }> } } } };
        };
      } & V1Job
    >({
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      namespace: NS,
      name: 'crate-decommission-crate',
    });
    expect(cron?.spec.schedule).toBe('0 3 * * 0');
    expect(cron?.spec.timeZone).toBe('Europe/Vienna');
    expect(cron?.spec.concurrencyPolicy).toBe('Forbid');
    const args = cron?.spec.jobTemplate.spec.template.spec.containers[0]?.args ?? [];
    expect(args.slice(0, 2)).toEqual(['rollout', 'statefulset/crate']);
    expect(args).not.toContain('--operation-id');
    const dup = testContext({ kube });
    expect(await runCli(['schedule', 'create', 'crate', '-n', NS, '--schedule', '0 3 * * 0'], dup)).toBe(2);
    expect(dup.err.text).toMatch(/already exists.*schedule update/);
    const upd = testContext({ kube });
    expect(await runCli(['schedule', 'update', 'crate', '-n', NS, '--schedule', '0 4 * * 6', '--suspend'], upd)).toBe(
      0,
    );
    const list = testContext({ kube });
    expect(await runCli(['schedule', 'list', '-n', NS, '-o', 'json'], list)).toBe(0);
    expect(JSON.parse(list.out.text)).toMatchObject([
      { name: 'crate-decommission-crate', schedule: '0 4 * * 6', suspend: true, cluster: 'crate' },
    ]);
    const del = testContext({ kube });
    expect(await runCli(['schedule', 'delete', 'crate', '-n', NS], del)).toBe(0);
    expect(del.out.text).toContain('cronjob.batch/crate-decommission-crate deleted');
  });
});

describe('podMentioned', () => {
  it.each([
    ['Using manual decommission for pod crate-data-hot-2', 'crate-data-hot-2'],
    ['Pod crate-0 has been deleted', 'crate-0'],
    ['No dc_util configured - executing manual decommission via CrateDB API', undefined],
  ])('%s', (msg, pod) => {
    expect(podMentioned(msg)).toBe(pod);
  });
});

describe('listr progress', () => {
  it('runs one task per pod; an error line fails its pod task (test renderer)', async () => {
    // listr2's test renderer writes one JSON event per line to stdout (errors to stderr): record them.
    const written: string[] = [];
    const capture = (chunk: string | Uint8Array) => {
      written.push(...String(chunk).split('\n').filter(Boolean));
      return true;
    };
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    try {
      const p = listrProgress(colors(false), { renderer: 'test' });
      p.line(logLine('Cluster crate/crate: 3 pods'));
      p.line(logLine('Using manual decommission for pod crate-2'));
      p.line(logLine('No dc_util configured'));
      p.line(logLine('Using manual decommission for pod crate-1', { pod: 'crate-1', step: 'decommission' }));
      p.line(JSON.stringify({ level: 'error', msg: 'Failed for pod crate-1' }));
      await p.close(false);
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
    const events = written.map((l) => {
      const e = JSON.parse(l) as { event: string; data: unknown; task: { title: string } };
      return [e.task.title, e.event, e.data];
    });
    // One task per pod (lines without a pod stay with the task they follow); the error line fails its pod's task.
    expect(events).toEqual([
      ['cluster', 'STATE', 'STARTED'],
      ['cluster', 'OUTPUT', 'Cluster crate/crate: 3 pods'],
      ['cluster', 'STATE', 'COMPLETED'],
      ['pod crate-2', 'STATE', 'STARTED'],
      ['pod crate-2', 'OUTPUT', 'Using manual decommission for pod crate-2'],
      ['pod crate-2', 'OUTPUT', 'No dc_util configured'],
      ['pod crate-2', 'STATE', 'COMPLETED'],
      ['pod crate-1', 'STATE', 'STARTED'],
      ['pod crate-1', 'OUTPUT', 'decommission: Using manual decommission for pod crate-1'],
      ['pod crate-1', 'OUTPUT', 'Failed for pod crate-1'],
      ['pod crate-1', 'STATE', 'FAILED'],
      ['pod crate-1', 'MESSAGE', { error: 'Failed for pod crate-1' }],
    ]);
  });
});

describe('plain progress', () => {
  it('renders level, pod and message; hides debug; passes non-JSON through', () => {
    const out = new CaptureWriter();
    const p = plainProgress(out, colors(false));
    p.runnerPod('job-x', 2);
    p.line(logLine('Using manual decommission for pod crate-0', { pod: 'crate-0' }));
    p.line(JSON.stringify({ ts: '2026-01-01T00:00:01.000Z', level: 'debug', msg: 'SQL 1/5' }));
    p.line(JSON.stringify({ ts: '2026-01-01T00:00:02.000Z', level: 'warn', msg: 'slow' }));
    p.line('plain text line');
    expect(out.lines).toEqual([
      'runner pod job-x (attempt 2, resuming the same operation)',
      '00:00:00 INFO  [crate-0] Using manual decommission for pod crate-0',
      '00:00:02 WARN  slow',
      'plain text line',
    ]);
  });
});

describe('a runner without a JSON result', () => {
  it('reports the first error line of the log tail (FallbackToLogsOnError)', async () => {
    const kube = new FakePluginKube();
    kube.put(job(JOB, [{ type: 'Failed', status: 'True', reason: 'PodFailurePolicy' }]));
    kube.logs.set(`${NS}/${JOB}-a`, { lines: [] });
    const tail = [
      'kubelet: warning: something',
      JSON.stringify({ level: 'error', msg: 'in-cluster configuration: no service account token' }),
      JSON.stringify({ level: 'error', msg: 'second' }),
    ].join('\n');
    kube.put(runnerPod(NS, JOB, `${JOB}-a`, { terminated: { exitCode: 2, message: tail, reason: 'Error' } }));
    const outcome = await followJob({
      kube,
      namespace: NS,
      jobName: JOB,
      progress: recorder(),
      signal: new AbortController().signal,
    });
    expect(outcome).toMatchObject({
      exitCode: 2,
      result: null,
      failure: 'runner: in-cluster configuration: no service account token',
    });
  });
});

describe('-o json when the runner wrote no result', () => {
  it('still prints one JSON document and keeps stderr JSON lines until the error line', async () => {
    const kube = new FakePluginKube();
    kube.put(statefulSet(NS, 'crate', 3));
    installRunnerRbac(kube, NS);
    const ctx = testContext({ kube });
    const name = 'crate-decommission-rollout-crate-abcde';
    kube.logs.set(`${NS}/${name}-p1`, { lines: [] });
    kube.put(runnerPod(NS, name, `${name}-p1`, { terminated: { exitCode: 137, reason: 'OOMKilled' } }));
    const run = runCli(['rollout', 'crate', '-n', NS, '--yes', '-o', 'json'], ctx);
    await tick();
    const created = (await kube.get<V1Job>({ apiVersion: 'batch/v1', kind: 'Job', namespace: NS, name })) as V1Job;
    kube.put({
      ...created,
      status: {
        conditions: [
          { type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', lastTransitionTime: new Date() },
        ],
      },
    } as V1Job);
    expect(await run).toBe(1);
    expect(JSON.parse(ctx.out.text)).toMatchObject({
      job: name,
      success: false,
      exitCode: 1,
      error: expect.stringMatching(/137.*OOMKilled/),
    });
    const errLines = ctx.err.lines;
    for (const l of errLines.slice(0, -1)) expect(() => JSON.parse(l)).not.toThrow();
    expect(errLines.at(-1)).toMatch(/^error: /);
  });
});
