// The plugin side of `rollout --temporal` (plugin/temporal-rollout.ts) on a real Temporal dev server with a worker of
// fake activities that heartbeat engine log lines: progress and exit codes are the Job mode's for success, failure
// (each errorKind), a cancelled workflow and Ctrl-C (detach: the workflow goes on), and an unreachable Temporal server
// is one clear line with an exit code, nothing started. The same engine lines and result go through Job mode (the
// fake cluster of test/unit/plugin) for the comparison.
import net from 'node:net';
import type { V1Job } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { CrateActivities } from '../../shared/temporal/contracts.js';
import type { PodRestartResult } from '../../shared/schemas.js';
import { runCli } from '../../plugin/cli.js';
import {
  FakePluginKube,
  installRunnerRbac,
  runnerPod,
  statefulSet,
  testContext,
  type TestContext,
} from '../unit/plugin/helpers.js';
import { startDevServer, workflowBundle } from './env.js';

const NS = 'crate';
const PODS = ['crate-2', 'crate-1', 'crate-0'];

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await startDevServer();
  await workflowBundle();
});
afterAll(async () => {
  await env?.teardown();
});

const line = (msg: string, pod: string, step = 'decommission') =>
  JSON.stringify({ ts: '2026-01-01T00:00:00.000Z', level: 'info', msg, pod, step });
const engineLines = (pod: string) => [
  line(`Analyzing decommission strategy for pod ${pod}`, pod, 'analyze'),
  line(`Decommission completed for pod ${pod} using manual strategy`, pod),
];

function podResult(pod: string, over: Partial<PodRestartResult> = {}): PodRestartResult {
  return {
    podName: pod,
    namespace: NS,
    success: true,
    strategyUsed: 'manual',
    duration: 2,
    error: null,
    errorKind: null,
    startedAt: '2026-01-01T00:00:00.000Z',
    completedAt: '2026-01-01T00:00:02.000Z',
    oldUid: `old-${pod}`,
    newUid: `new-${pod}`,
    skipped: false,
    decommission: null,
    preflight: null,
    health: { healthy: true, degraded: false, checks: [], failedChecks: [], goodReadings: 3 } as never,
    allocationReset: true,
    ...over,
  };
}

type Script = { fail?: { pod: string; kind: string }; refuse?: boolean; block?: string };

/** Fake activities: 3 pods; restartPod heartbeats the engine's lines, stays pending long enough for the follower. */
function fakes(script: Script = {}) {
  const cancelled: string[] = [];
  let release: () => void = () => {};
  const released = new Promise<void>((r) => (release = r));
  const a: CrateActivities = {
    async analyzeCluster(input) {
      return {
        name: input.name,
        namespace: input.namespace,
        dcUtilTimeout: 720,
        pods: PODS.map((name) => ({ name })),
        statefulSets: [],
      } as never;
    },
    async planRollingRestart(input) {
      return {
        cluster: input.cluster.name,
        namespace: input.cluster.namespace,
        order: PODS.map((podName) => ({ podName, timeoutSeconds: 100, alreadyDone: false })),
        preflight: null,
        preflightDecision: script.refuse
          ? { outcome: 'refused', pods: [], message: 'failed checks all_tables_green (RED)' }
          : { outcome: 'passed', pods: [], message: 'passed' },
        totalTimeoutSeconds: 300,
      } as never;
    },
    async checkClusterHealth() {
      return { healthy: true, failedChecks: [] } as never;
    },
    async decommissionPod() {
      throw new Error('not used');
    },
    async restartPod(input) {
      const ctx = Context.current();
      const lines = engineLines(input.podName);
      ctx.heartbeat({
        seq: lines.length,
        lines,
        pod: input.podName,
        step: 'decommission',
        at: new Date().toISOString(),
      });
      const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
      if (script.block === input.podName) {
        const beat = setInterval(
          () =>
            ctx.heartbeat({
              seq: lines.length,
              lines,
              pod: input.podName,
              step: 'decommission',
              at: new Date().toISOString(),
            }),
          300,
        );
        try {
          await Promise.race([ctx.cancelled, released]);
        } catch (err) {
          cancelled.push(input.podName);
          throw err instanceof CancelledFailure
            ? new CancelledFailure('cancelled', [
                podResult(input.podName, {
                  success: false,
                  error: 'Operation aborted: cancelled',
                  errorKind: 'failed',
                }),
              ])
            : err;
        } finally {
          clearInterval(beat);
        }
      }
      await wait(1500);
      if (script.fail?.pod === input.podName) {
        const r = podResult(input.podName, {
          success: false,
          error: `pod ${input.podName}: ${script.fail.kind}`,
          errorKind: script.fail.kind as never,
        });
        throw ApplicationFailure.create({
          message: r.error!,
          type: script.fail.kind,
          nonRetryable: true,
          details: [r],
        });
      }
      return podResult(input.podName);
    },
  };
  return { a, cancelled, release };
}

let queue = 0;
async function withWorker<T>(activities: CrateActivities, fn: (taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = `plugin-${process.pid}-${++queue}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities,
    maxHeartbeatThrottleInterval: '200ms',
    defaultHeartbeatThrottleInterval: '200ms',
  });
  return worker.runUntil(fn(taskQueue));
}

let suffix = 0;
function ctxFor(): TestContext {
  const ctx = testContext({ kube: new FakePluginKube(), namespace: NS });
  const s = `t${process.pid}x${++suffix}`;
  ctx.randomSuffix = () => s;
  return ctx;
}

const rollout = (ctx: TestContext, taskQueue: string, extra: string[] = []) =>
  runCli(
    [
      'rollout',
      'sts/crate',
      '-n',
      NS,
      '--temporal',
      '--temporal-address',
      env.address,
      '--task-queue',
      taskQueue,
      '--yes',
      ...extra,
    ],
    ctx,
  );

/** The same engine lines and outcome through Job mode (a fake cluster, the runner's log and termination message). */
async function jobMode(opts: {
  exitCode: number;
  result: unknown;
  pods: string[];
  extra?: string[];
}): Promise<{ code: number; ctx: TestContext }> {
  const kube = new FakePluginKube();
  kube.put(statefulSet(NS, 'crate', 3));
  installRunnerRbac(kube, NS);
  const ctx = testContext({ kube });
  const name = 'crate-decommission-rollout-crate-abcde';
  kube.logs.set(`${NS}/${name}-p1`, { lines: opts.pods.flatMap(engineLines) });
  const run = runCli(['rollout', 'sts/crate', '-n', NS, '--yes', ...(opts.extra ?? [])], ctx);
  await new Promise((r) => setTimeout(r, 20));
  kube.put(
    runnerPod(NS, name, `${name}-p1`, {
      // As the runner writes it: the outcome's kind in `outcome` (shared/task/outcome.ts).
      terminated: {
        exitCode: opts.exitCode,
        message: JSON.stringify({ outcome: 'rollout', ...(opts.result as object) }),
      },
    }),
  );
  if (opts.exitCode !== 0) {
    // The Job's podFailurePolicy fails it at once on the runner's documented codes (and on 143: no retry of a cancel).
    const created = (await kube.get<V1Job>({ apiVersion: 'batch/v1', kind: 'Job', namespace: NS, name })) as V1Job;
    kube.put({
      ...created,
      status: {
        conditions: [{ type: 'Failed', status: 'True', reason: 'PodFailurePolicy', lastTransitionTime: new Date() }],
      },
    } as V1Job);
  }
  return { code: await run, ctx };
}

/** Lines of the engine rendered by the plain progress (`[pod] msg`). */
const rendered = (text: string) =>
  text.split('\n').filter((l) => /\[crate-\d\] (Analyzing|Decommission completed)/.test(l));
/** The result summary: from the `✓|✗ rollout of` line to the end of stdout. */
const summary = (text: string) => text.slice(text.search(/[✓✗] rollout of /)).replace(/ in \S+/, ' in <d>');

const rollingResult = (pods: PodRestartResult[], over: Record<string, unknown> = {}) => ({
  cluster: 'crate',
  namespace: NS,
  operationId: 'op',
  success: true,
  dryRun: false,
  duration: 6,
  error: null,
  errorKind: null,
  plan: { cluster: 'crate', namespace: NS, order: [], preflight: null, totalTimeoutSeconds: 300 },
  pods,
  allocationReset: true,
  ...over,
});

describe('rollout --temporal (plugin side)', () => {
  it('success: exit 0, the engine lines rendered as in Job mode, the same result summary', async () => {
    const f = fakes();
    const ctx = ctxFor();
    const code = await withWorker(f.a, (q) => rollout(ctx, q));
    expect(code, ctx.err.text).toBe(0);
    expect(ctx.err.text).toMatch(
      /^workflow crate-rollout-crate-crate-\d+-\S+ started on 127\.0\.0\.1:\d+ \(namespace default, task queue plugin-\S+; Ctrl-C detaches, the workflow goes on\)$/m,
    );
    const job = await jobMode({ exitCode: 0, result: rollingResult(PODS.map((p) => podResult(p))), pods: PODS });
    expect(job.code).toBe(0);
    expect(rendered(ctx.out.text), `${ctx.out.text}\n---\n${ctx.err.text}`).toEqual(rendered(job.ctx.out.text));
    expect(rendered(ctx.out.text)).toHaveLength(6);
    for (const p of PODS) expect(ctx.out.text).toContain(`[${p}] Pod ${p} restarted (new uid new-${p}`);
    expect(summary(ctx.out.text)).toEqual(summary(job.ctx.out.text));
  });

  it('-o json: engine lines as JSON on stderr, the Job-mode result document (RollingRestartResult shape) on stdout', async () => {
    const f = fakes();
    const ctx = ctxFor();
    const code = await withWorker(f.a, (q) => rollout(ctx, q, ['-o', 'json']));
    expect(code, ctx.err.text).toBe(0);
    for (const l of ctx.err.lines) expect(() => JSON.parse(l), l).not.toThrow();
    const doc = JSON.parse(ctx.out.text);
    expect(doc).toMatchObject({
      cluster: 'crate',
      namespace: NS,
      success: true,
      dryRun: false,
      error: null,
      errorKind: null,
      allocationReset: true,
    });
    expect(doc.pods.map((p: PodRestartResult) => [p.podName, p.success, p.newUid])).toEqual(
      PODS.map((p) => [p, true, `new-${p}`]),
    );
    expect(doc.operationId).toMatch(/^crate-rollout-crate-crate-/);
    expect(typeof doc.duration).toBe('number');
  });

  describe.each([
    { kind: 'failed', code: 1 },
    { kind: 'timeout', code: 4 },
    { kind: 'locked', code: 5 },
    { kind: 'bad_input', code: 2 },
  ])('a pod failing $kind', ({ kind, code }) => {
    it(`exit ${code} as in Job mode, the failed pod in the summary, one error line, later pods not started`, async () => {
      const f = fakes({ fail: { pod: 'crate-1', kind } });
      const ctx = ctxFor();
      const got = await withWorker(f.a, (q) => rollout(ctx, q));
      const failed = podResult('crate-1', { success: false, error: `pod crate-1: ${kind}`, errorKind: kind as never });
      const job = await jobMode({
        exitCode: code,
        result: rollingResult([podResult('crate-2'), failed], {
          success: false,
          error: `Failed to restart crate-1: pod crate-1: ${kind}`,
          errorKind: kind,
        }),
        pods: ['crate-2', 'crate-1'],
      });
      expect(job.code).toBe(code);
      expect(got, ctx.err.text).toBe(job.code);
      expect(ctx.out.text).toContain('[crate-1] Pod crate-1 failed');
      expect(ctx.out.text).not.toContain('[crate-0] Analyzing');
      expect(summary(ctx.out.text)).toEqual(summary(job.ctx.out.text));
      const errors = ctx.err.lines.filter((l) => l.startsWith('error: '));
      expect(errors, ctx.err.text).toEqual([`error: Failed to restart crate-1: pod crate-1: ${kind}`]);
    });
  });

  it('a refused pre-flight: exit 3, no pod started', async () => {
    const f = fakes({ refuse: true });
    const ctx = ctxFor();
    expect(await withWorker(f.a, (q) => rollout(ctx, q))).toBe(3);
    expect(ctx.out.text).not.toMatch(/Analyzing decommission/);
    expect(ctx.err.lines.filter((l) => l.startsWith('error: '))).toEqual([
      expect.stringMatching(
        /^error: Pre-flight health check refused the rolling restart of crate\/crate: failed checks all_tables_green/,
      ),
    ]);
  });

  it('the workflow cancelled (temporal workflow cancel): exit as Job mode after `jobs cancel` (1), the pod shown cancelled and stopped safely, the summary of what was done', async () => {
    const f = fakes({ block: 'crate-1' });
    const ctx = ctxFor();
    const code = await withWorker(f.a, async (q) => {
      const run = rollout(ctx, q);
      const id = await waitFor(() => /workflow (\S+) started/.exec(ctx.err.text)?.[1]);
      await waitFor(() => ctx.out.text.includes('[crate-1] Analyzing'));
      await env.client.workflow.getHandle(id).cancel();
      return run;
    });
    // Job mode: `jobs cancel` SIGTERMs the runner, which stops safely and exits 143; the plugin reports a failed run.
    const job = await jobMode({
      exitCode: 143,
      result: rollingResult([podResult('crate-2')], {
        success: false,
        error: 'Operation aborted: SIGTERM',
        errorKind: 'failed',
      }),
      pods: ['crate-2'],
    });
    expect(job.code).toBe(1);
    expect(code, ctx.err.text).toBe(job.code);
    expect(f.cancelled).toEqual(['crate-1']);
    expect(ctx.out.text).toContain(
      '[crate-1] Pod crate-1: cancelled, stopped safely (allocation reset, lock released)',
    );
    expect(ctx.err.lines.filter((l) => l.startsWith('error: '))).toEqual([
      'error: the workflow was cancelled; it stopped safely (allocation reset, lock released)',
    ]);
    expect(summary(ctx.out.text)).toMatch(
      /^✗ rollout of crate\/crate failed in <d>\nPOD +RESULT +STRATEGY +RELOCATION +DURATION +ERROR\ncrate-2 +restarted +manual +- +2s *\ncrate-1 +failed .*cancelled/,
    );
  });

  it('Ctrl-C detaches (exit 130, as Job mode): the workflow goes on and finishes; the message says how to follow and cancel it', async () => {
    const f = fakes({ block: 'crate-1' });
    const ctx = ctxFor();
    await withWorker(f.a, async (q) => {
      const run = rollout(ctx, q);
      const id = await waitFor(() => /workflow (\S+) started/.exec(ctx.err.text)?.[1]);
      await waitFor(() => ctx.out.text.includes('[crate-1] Analyzing'));
      const at = Date.now();
      ctx.abort.abort();
      expect(await run).toBe(130);
      expect(Date.now() - at, 'detached at once').toBeLessThan(2000);
      expect(ctx.err.text).toContain(
        `detached from workflow ${id}; it goes on. Follow it: temporal workflow show -w ${id} --follow; stop it safely: temporal workflow cancel -w ${id}`,
      );
      const handle = env.client.workflow.getHandle(id);
      expect((await handle.describe()).status.name).toBe('RUNNING');
      f.release();
      await handle.result();
      expect(f.cancelled).toEqual([]);
    });
  });

  it('an unreachable Temporal server: one error line naming it, exit 6 (as an unreachable cluster), within the connect timeout', async () => {
    const port = await closedPort();
    const ctx = ctxFor();
    const at = Date.now();
    const code = await runCli(
      ['rollout', 'sts/crate', '-n', NS, '--temporal', '--temporal-address', `127.0.0.1:${port}`, '--yes'],
      ctx,
    );
    expect(code).toBe(6);
    expect(Date.now() - at).toBeLessThan(15_000);
    expect(ctx.out.text).toBe('');
    expect(ctx.err.lines, ctx.err.text).toEqual([
      expect.stringMatching(
        new RegExp(
          `^error: cannot reach the Temporal server 127\\.0\\.0\\.1:${port} \\(namespace default\\): .+\\. .+; no workflow was started$`,
        ),
      ),
    ]);
  });
});

async function waitFor<T>(fn: () => T | undefined | null | false, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
    s.on('error', reject);
  });
}
