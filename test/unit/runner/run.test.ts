// The runner: task from args/env, JSON-line logs, the termination message (< 4 KiB, path from CDK_TERMINATION_LOG),
// exit codes, and SIGTERM aborting the engine (which resets allocation and releases the Lease) -> exit 143.
import { describe, expect, it } from 'vitest';
import type { CrateDBCluster } from '../../../shared/schemas.js';
import type { EngineDeps } from '../../../shared/ports.js';
import { createLogger } from '../../../shared/log.js';
import { systemClock } from '../../../shared/clock.js';
import { BadInputError, LockedError } from '../../../shared/errors.js';
import type { EngineApi } from '../../../shared/task/engine.js';
import { runRunner, type RunnerIO } from '../../../runner/run.js';
import { fitTerminationMessage } from '../../../runner/termination.js';

const cluster = { name: 'crate', namespace: 'crate', statefulSetName: 'crate' } as unknown as CrateDBCluster;

interface Calls {
  rollingRestart: Array<{ input: Record<string, unknown>; deps: EngineDeps }>;
  analyze: unknown[];
}

function fakeEngine(overrides: Partial<EngineApi> = {}): EngineApi & { calls: Calls } {
  const calls: Calls = { rollingRestart: [], analyze: [] };
  const engine: EngineApi & { calls: Calls } = {
    calls,
    analyzeCluster: async (_deps, input) => {
      calls.analyze.push(input);
      return cluster;
    },
    checkClusterHealth: async () => ({
      healthy: true,
      healthStatus: 'GREEN',
      checks: [],
      failedChecks: [],
      nodeCount: 3,
      expectedNodes: 3,
      masterNode: 'n1',
      relocatingShards: 0,
      initializingShards: 0,
      goodReadings: 3,
      checkedAt: 'now',
      error: null,
    }),
    decommissionPod: async () => {
      throw new Error('not used');
    },
    restartPod: async () => {
      throw new Error('not used');
    },
    rollingRestart: async (deps, input) => {
      calls.rollingRestart.push({ input: input as unknown as Record<string, unknown>, deps });
      deps.log.info('Using manual decommission for pod crate-2', { pod: 'crate-2', step: 'decommission' });
      return {
        cluster: 'crate',
        namespace: 'crate',
        operationId: String(input.operationId),
        success: true,
        dryRun: false,
        duration: 3,
        error: null,
        errorKind: null,
        plan: { cluster: 'crate', namespace: 'crate', order: [], preflight: null, totalTimeoutSeconds: 1 },
        pods: [],
        allocationReset: true,
      };
    },
    planRollingRestart: async () => ({
      cluster: 'crate',
      namespace: 'crate',
      order: [],
      preflight: null,
      totalTimeoutSeconds: 1,
    }),
    createLogger: (o) => createLogger(o),
    systemClock,
    ...overrides,
  };
  return engine;
}

function io(opts: { argv?: string[]; env?: Record<string, string>; engine?: EngineApi; signal?: AbortSignal } = {}) {
  const lines: string[] = [];
  const files = new Map<string, string>();
  let connects = 0;
  const runnerIO: RunnerIO = {
    argv: opts.argv ?? [],
    env: opts.env ?? {},
    writeLine: (l) => void lines.push(l),
    writeFile: async (path, text) => void files.set(path, text),
    connect: async () => {
      connects += 1;
      return {
        namespace: 'sa-namespace',
        engineDeps: async (log, signal) => ({
          kube: {} as EngineDeps['kube'],
          sql: {} as EngineDeps['sql'],
          clock: systemClock,
          log,
          signal,
          holderIdentity: 'runner-pod',
        }),
      };
    },
    loadEngine: async () => opts.engine ?? fakeEngine(),
    signal: opts.signal ?? new AbortController().signal,
    now: () => new Date(Date.UTC(2026, 0, 1)),
  };
  return { runnerIO, lines, files, connects: () => connects };
}

describe('runner', () => {
  it('runs the task from argv, logs JSON lines, writes the result to the termination log', async () => {
    const engine = fakeEngine();
    const t = io({
      argv: ['rollout', 'statefulset/crate', '--namespace', 'crate', '--timeout', '20m', '--operation-id', 'job-1'],
      engine,
      env: { CDK_TERMINATION_LOG: '/tmp/term' },
    });
    expect(await runRunner(t.runnerIO)).toBe(0);
    for (const l of t.lines) expect(() => JSON.parse(l)).not.toThrow();
    expect(t.lines.map((l) => JSON.parse(l).msg)).toContain('Using manual decommission for pod crate-2');
    const pod = t.lines.map((l) => JSON.parse(l)).find((r) => r.pod === 'crate-2');
    expect(pod).toMatchObject({ level: 'info', step: 'decommission' });
    const result = JSON.parse(t.files.get('/tmp/term') ?? '{}');
    expect(result).toMatchObject({
      exitCode: 0,
      success: true,
      operation: 'rollout',
      namespace: 'crate',
      target: 'statefulset/crate',
      operationId: 'job-1',
    });
    expect(engine.calls.rollingRestart[0]?.input).toMatchObject({
      operationId: 'job-1',
      options: { decommissionTimeout: 1200, allocation: 'primaries', minAvailability: 'PRIMARIES' },
    });
    expect(engine.calls.analyze[0]).toEqual({ namespace: 'crate', kind: 'statefulset', name: 'crate' });
  });

  it('writes /dev/termination-log by default', async () => {
    const t = io({ argv: ['health', 'crate', '-n', 'crate'] });
    expect(await runRunner(t.runnerIO)).toBe(0);
    expect([...t.files.keys()]).toEqual(['/dev/termination-log']);
  });

  it('takes the task from CRATE_DECOMMISSION_ARGS when argv is empty', async () => {
    const engine = fakeEngine();
    const t = io({
      engine,
      env: { CRATE_DECOMMISSION_ARGS: '["rollout","crate","--namespace","crate"]', OPERATION_ID: 'cron-job-123' },
    });
    expect(await runRunner(t.runnerIO)).toBe(0);
    expect(engine.calls.rollingRestart[0]?.input.operationId).toBe('cron-job-123');
  });

  it('bad input: exit 2, an error line, the result says bad_input, nothing connected', async () => {
    const t = io({ argv: ['rollout', 'Bad_Name', '--namespace', 'crate'] });
    expect(await runRunner(t.runnerIO)).toBe(2);
    expect(JSON.parse(t.lines[0] ?? '{}')).toMatchObject({ level: 'error', errorKind: 'bad_input' });
    expect(JSON.parse(t.files.get('/dev/termination-log') ?? '{}')).toMatchObject({
      exitCode: 2,
      success: false,
      errorKind: 'bad_input',
    });
    expect(t.connects()).toBe(0);
  });

  it.each([
    [['frobnicate', 'x']],
    [['rollout']],
    [['rollout', 'crate', '--timeout', 'forever']],
    [['rollout', 'crate', '--bogus']],
    [['restart', 'sts/crate']],
    [[]],
  ])('bad argv %j -> 2', async (argv) => {
    const t = io({ argv });
    expect(await runRunner(t.runnerIO)).toBe(2);
    expect(t.connects()).toBe(0);
  });

  it('an engine error maps to its exit code (locked -> 5)', async () => {
    const engine = fakeEngine({
      analyzeCluster: async () => {
        throw new LockedError('cluster crate is locked by crate-decommission-rollout-crate-zzzzz-abcde', 'other');
      },
    });
    const t = io({ argv: ['rollout', 'crate', '-n', 'crate'], engine });
    expect(await runRunner(t.runnerIO)).toBe(5);
    expect(JSON.parse(t.files.get('/dev/termination-log') ?? '{}')).toMatchObject({
      exitCode: 5,
      errorKind: 'locked',
      error: expect.stringMatching(/locked by/),
    });
  });

  it('a failed connection is reported in the result (bad input -> 2)', async () => {
    const t = io({ argv: ['rollout', 'crate', '-n', 'crate'] });
    t.runnerIO.connect = async () => {
      throw new BadInputError('no Kubernetes configuration found');
    };
    expect(await runRunner(t.runnerIO)).toBe(2);
    expect(JSON.parse(t.files.get('/dev/termination-log') ?? '{}')).toMatchObject({
      exitCode: 2,
      error: 'no Kubernetes configuration found',
    });
  });

  it('SIGTERM aborts the engine through its signal and exits 143 with the result written', async () => {
    const term = new AbortController();
    let sawSignal: AbortSignal | undefined;
    const engine = fakeEngine({
      rollingRestart: async (deps, input) => {
        sawSignal = deps.signal;
        await new Promise<void>((resolve) => deps.signal?.addEventListener('abort', () => resolve(), { once: true }));
        deps.log.info('allocation reset; lease released', { step: 'cleanup' });
        return {
          cluster: 'crate',
          namespace: 'crate',
          operationId: String(input.operationId),
          success: false,
          dryRun: false,
          duration: 1,
          error: 'aborted: SIGTERM',
          errorKind: 'failed',
          plan: { cluster: 'crate', namespace: 'crate', order: [], preflight: null, totalTimeoutSeconds: 1 },
          pods: [],
          allocationReset: true,
        };
      },
    });
    const t = io({ argv: ['rollout', 'crate', '-n', 'crate', '--operation-id', 'job-9'], engine, signal: term.signal });
    const run = runRunner(t.runnerIO);
    await new Promise((r) => setTimeout(r, 10));
    expect(sawSignal?.aborted).toBe(false);
    term.abort(new Error('SIGTERM'));
    expect(await run).toBe(143);
    expect(sawSignal?.aborted).toBe(true);
    const result = JSON.parse(t.files.get('/dev/termination-log') ?? '{}');
    expect(result).toMatchObject({ exitCode: 143, terminated: true, allocationReset: true, success: false });
    expect(t.lines.some((l) => JSON.parse(l).msg.includes('SIGTERM'))).toBe(true);
  });
});

describe('runner helpers', () => {
  /** One runner run with these argv and env: its exit code, the engine's calls, the result record. */
  async function run(argv: string[], env: Record<string, string>) {
    const engine = fakeEngine();
    const t = io({ argv, env: { CDK_TERMINATION_LOG: '/tmp/term', ...env }, engine });
    const code = await runRunner(t.runnerIO);
    return {
      code,
      calls: engine.calls,
      result: JSON.parse(t.files.get('/tmp/term') ?? '{}') as Record<string, unknown>,
    };
  }

  it('argv wins over the env; a plain env string is split on spaces', async () => {
    const argvWins = await run(['rollout', 'sts/a', '-n', 'crate'], { CRATE_DECOMMISSION_ARGS: 'rollout sts/b -n c' });
    expect(argvWins.calls.analyze).toEqual([{ namespace: 'crate', kind: 'statefulset', name: 'a' }]);
    const split = await run([], { CRATE_DECOMMISSION_ARGS: 'rollout crate  -n x' });
    expect(split.calls.analyze).toEqual([{ namespace: 'x', kind: 'statefulset', name: 'crate' }]);
    const bad = await run([], { CRATE_DECOMMISSION_ARGS: '[1,2' });
    expect(bad.code).toBe(2);
    expect(bad.result.error).toMatch(/JSON array/);
  });

  it('operation id: flag, then OPERATION_ID, then the pod name without its suffix', async () => {
    const rollout = ['rollout', 'sts/c', '-n', 'x'];
    const operationId = async (argv: string[], env: Record<string, string>) =>
      (await run(argv, env)).calls.rollingRestart[0]!.input.operationId;
    expect(await operationId([...rollout, '--operation-id', 'flag'], { OPERATION_ID: 'env' })).toBe('flag');
    expect(await operationId(rollout, { OPERATION_ID: 'env' })).toBe('env');
    expect(await operationId(rollout, { HOSTNAME: 'crate-decommission-rollout-c-abcde-x7k2p' })).toBe(
      'crate-decommission-rollout-c-abcde',
    );
    expect(await operationId(rollout, {})).toBeUndefined();
  });
});

describe('termination message', () => {
  it('is kept whole when small', () => {
    expect(fitTerminationMessage({ a: 1 })).toBe('{"a":1}');
  });

  it('stays under 4 KiB with long lists and texts, keeping the verdict', () => {
    const pods = Array.from({ length: 200 }, (_, i) => ({
      podName: `crate-data-hot-${'x'.repeat(40)}-${i}`,
      success: true,
      error: 'e'.repeat(300),
    }));
    const text = fitTerminationMessage({ success: false, exitCode: 1, error: 'boom', pods });
    expect(Buffer.byteLength(text)).toBeLessThan(4096);
    const parsed = JSON.parse(text);
    expect(parsed).toMatchObject({ success: false, exitCode: 1, error: 'boom', truncated: true });
    expect(Array.isArray(parsed.pods)).toBe(true);
  });

  it('falls back to the verdict when nothing else fits', () => {
    const wide = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`field${i}`, i]));
    const text = fitTerminationMessage({
      ...wide,
      operation: 'rollout',
      exitCode: 4,
      success: false,
      error: 'x'.repeat(10_000),
    });
    expect(Buffer.byteLength(text)).toBeLessThan(4096);
    expect(JSON.parse(text)).toMatchObject({ operation: 'rollout', exitCode: 4, success: false, truncated: true });
  });
});

describe('runner --help and --version', () => {
  it('--version prints the version, exit 0, nothing connected or written', async () => {
    const { VERSION } = await import('../../../shared/task/version.js');
    const t = io({ argv: ['--version'] });
    expect(await runRunner(t.runnerIO)).toBe(0);
    expect(t.lines).toEqual([VERSION]);
    expect(t.connects()).toBe(0);
    expect(t.files.size).toBe(0);
  });

  it('--help / -h prints the usage with every operation, exit 0, nothing connected or written', async () => {
    for (const argv of [['--help'], ['-h']]) {
      const t = io({ argv });
      expect(await runRunner(t.runnerIO)).toBe(0);
      const text = t.lines.join('\n');
      expect(text).toMatch(/^crate-decommission-runner <operation> <target>/);
      for (const op of ['rollout', 'restart', 'decommission', 'health', 'plan'])
        expect(text).toContain(`crate-decommission-runner ${op}`);
      expect(text).toContain('--log-level');
      expect(t.connects()).toBe(0);
      expect(t.files.size).toBe(0);
    }
  });

  it("<operation> --help lists that operation's engine flags", async () => {
    const t = io({ argv: ['restart', '--help'] });
    expect(await runRunner(t.runnerIO)).toBe(0);
    const text = t.lines.join('\n');
    expect(text).toContain('--pod-ready-timeout');
    expect(text).toContain('--skip-preflight');
    expect(t.connects()).toBe(0);
  });

  it('a --help after -- is an argument, not a request for help', async () => {
    const { VERSION } = await import('../../../shared/task/version.js');
    const afterDashes = io({ argv: ['rollout', 'sts/x', '--', '--help'] });
    await runRunner(afterDashes.runnerIO);
    expect(afterDashes.lines.join('\n')).not.toMatch(/^crate-decommission-runner <operation> <target>/);
    expect(afterDashes.lines).not.toEqual([VERSION]);
    expect(afterDashes.lines[0]).toContain('runner starting rollout of statefulset/x');
    const version = io({ argv: ['rollout', 'sts/x', '--version'] });
    expect(await runRunner(version.runnerIO)).toBe(0);
    expect(version.lines).toEqual([VERSION]);
  });
});
