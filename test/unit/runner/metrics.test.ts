// The runner's metrics: --pushgateway (or env for CronJobs) pushes to a Pushgateway (here a loopback HTTP server
// recording requests) at the end, also on failure and SIGTERM; a Pushgateway that is down never changes the exit
// code; bad flags are bad input; dry runs push nothing. Also: the flags pass through to the Job and the CronJob.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { CrateDBCluster } from '../../../shared/schemas.js';
import type { EngineDeps } from '../../../shared/ports.js';
import { createLogger } from '../../../shared/log.js';
import { systemClock } from '../../../shared/clock.js';
import { parseExposition } from '../../../shared/metrics.js';
import type { EngineApi } from '../../../shared/task/engine.js';
import { runRunner, type RunnerIO } from '../../../runner/run.js';
import { buildTask, runnerArgsFor } from '../../../shared/task/index.js';
import { buildScheduleCronJob } from '../../../plugin/schedule.js';

const cluster = {
  name: 'crate',
  namespace: 'crate',
  statefulSetName: 'crate',
  pods: [],
  statefulSets: [],
} as unknown as CrateDBCluster;

interface Req {
  method: string;
  url: string;
  body: string;
}

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

async function fakePushgateway(): Promise<{ url: string; requests: Req[] }> {
  const requests: Req[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', body });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('');
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

function engine(rolling: EngineApi['rollingRestart']): EngineApi {
  return {
    analyzeCluster: async () => cluster,
    checkClusterHealth: async () => {
      throw new Error('not used');
    },
    decommissionPod: async () => {
      throw new Error('not used');
    },
    restartPod: async () => {
      throw new Error('not used');
    },
    rollingRestart: rolling,
    planRollingRestart: async () => ({
      cluster: 'crate',
      namespace: 'crate',
      order: [],
      preflight: null,
      totalTimeoutSeconds: 1,
    }),
    createLogger: (o) => createLogger(o),
    systemClock,
  };
}

const ok: EngineApi['rollingRestart'] = async (_deps, input) => ({
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
});

function io(argv: string[], opts: { env?: Record<string, string>; engine?: EngineApi; signal?: AbortSignal } = {}) {
  const lines: string[] = [];
  const runnerIO: RunnerIO = {
    argv,
    env: opts.env ?? {},
    writeLine: (l) => void lines.push(l),
    writeFile: async () => undefined,
    connect: async () => ({
      namespace: 'crate',
      engineDeps: async (log, signal) => ({
        kube: {} as EngineDeps['kube'],
        sql: {} as EngineDeps['sql'],
        clock: systemClock,
        log,
        signal,
        holderIdentity: 'runner-pod',
      }),
    }),
    loadEngine: async () => opts.engine ?? engine(ok),
    signal: opts.signal ?? new AbortController().signal,
    now: () => new Date(),
  };
  return { runnerIO, lines };
}

const posts = (reqs: Req[]) => reqs.filter((r) => r.method === 'POST');
const opsTotal = (body: string) =>
  parseExposition(body).filter((s) => s.name === 'crate_decommission_operations_total' && s.value > 0);

describe('runner metrics', () => {
  it('--pushgateway: reads the group, pushes the result to job/namespace/cluster; exit 0', async () => {
    const pgw = await fakePushgateway();
    const t = io(['rollout', 'sts/crate', '-n', 'crate', '--pushgateway', pgw.url]);
    expect(await runRunner(t.runnerIO)).toBe(0);
    expect(pgw.requests[0]).toMatchObject({ method: 'GET', url: '/metrics' });
    const last = posts(pgw.requests).at(-1)!;
    expect(last.url).toBe('/metrics/job/crate-decommission/namespace/crate/cluster/crate');
    expect(opsTotal(last.body)).toEqual([
      {
        name: 'crate_decommission_operations_total',
        labels: { namespace: 'crate', cluster: 'crate', operation: 'rollout', result: 'success', error_kind: 'none' },
        value: 1,
      },
    ]);
    expect(t.lines.map((l) => JSON.parse(l).msg)).toContain(
      `Metrics go to Pushgateway ${pgw.url} (job crate-decommission)`,
    );
  });

  it("env CRATE_DECOMMISSION_PUSHGATEWAY(_JOB) for CronJobs: the schedule's job name in the grouping key", async () => {
    const pgw = await fakePushgateway();
    const t = io(['rollout', 'sts/crate', '-n', 'crate'], {
      env: { CRATE_DECOMMISSION_PUSHGATEWAY: pgw.url, CRATE_DECOMMISSION_PUSHGATEWAY_JOB: 'crate-decommission-crate' },
    });
    expect(await runRunner(t.runnerIO)).toBe(0);
    expect(posts(pgw.requests).at(-1)!.url).toBe('/metrics/job/crate-decommission-crate/namespace/crate/cluster/crate');
  });

  it("a Pushgateway that is down: logged as a warning, the exit code is the operation's", async () => {
    const pgw = await fakePushgateway();
    const down = pgw.url;
    await new Promise((r) => servers.pop()!.close(r));
    const t = io(['rollout', 'sts/crate', '-n', 'crate', '--pushgateway', down]);
    expect(await runRunner(t.runnerIO)).toBe(0);
    const warns = t.lines.map((l) => JSON.parse(l)).filter((r) => r.level === 'warn' && r.step === 'metrics');
    expect(warns).toHaveLength(1);
    expect(warns[0].msg).toMatch(/the operation goes on without it/);
  });

  it('SIGTERM: the state is pushed at once, then the result with error_kind terminated; exit 143', async () => {
    const pgw = await fakePushgateway();
    const ac = new AbortController();
    let pushesBeforeReturn = -1;
    const slow = engine(async (deps, input) => {
      await new Promise<void>((r) => deps.signal!.addEventListener('abort', () => r(), { once: true }));
      await new Promise((r) => setTimeout(r, 200));
      pushesBeforeReturn = posts(pgw.requests).length;
      return { ...(await ok(deps, input)), success: false, error: 'Operation aborted: SIGTERM', errorKind: 'failed' };
    });
    const t = io(['rollout', 'sts/crate', '-n', 'crate', '--pushgateway', pgw.url], {
      engine: slow,
      signal: ac.signal,
    });
    const done = runRunner(t.runnerIO);
    setTimeout(() => ac.abort(new Error('SIGTERM: stopping safely')), 50);
    expect(await done).toBe(143);
    expect(pushesBeforeReturn).toBeGreaterThanOrEqual(1);
    expect(opsTotal(posts(pgw.requests).at(-1)!.body)[0]!.labels).toMatchObject({
      result: 'failure',
      error_kind: 'terminated',
    });
  });

  it('a bad --pushgateway is bad input (exit 2); a dry run pushes nothing', async () => {
    const bad = io(['rollout', 'sts/crate', '-n', 'crate', '--pushgateway', 'pgw:9091']);
    expect(await runRunner(bad.runnerIO)).toBe(2);
    expect(bad.lines.join('\n')).toMatch(/invalid --pushgateway/);
    const pgw = await fakePushgateway();
    const dry = io(['rollout', 'sts/crate', '-n', 'crate', '--dry-run', '--pushgateway', pgw.url]);
    expect(await runRunner(dry.runnerIO)).toBe(0);
    expect(pgw.requests).toEqual([]);
  });
});

describe('the metrics flags reach the runner Job and the CronJob', () => {
  const raw = { pushgateway: 'http://pushgateway.monitoring:9091', 'metrics-file': '/textfile/cd.prom' };
  it('runnerArgsFor carries --pushgateway and --metrics-file (rollout, restart, decommission), not for health', () => {
    const task = buildTask({
      operation: 'rollout',
      namespace: 'crate',
      target: { kind: 'statefulset', name: 'crate' },
      dryRun: false,
      raw,
    });
    const args = runnerArgsFor(task);
    expect(args.join(' ')).toContain(
      '--pushgateway http://pushgateway.monitoring:9091 --metrics-file /textfile/cd.prom',
    );
    const health = buildTask({
      operation: 'health',
      namespace: 'crate',
      target: { kind: 'statefulset', name: 'crate' },
      dryRun: false,
      raw: {},
    });
    expect(runnerArgsFor(health)).not.toContain('--pushgateway');
  });

  it('schedule create: the CronJob passes them and names its Pushgateway job after itself', () => {
    const task = buildTask({
      operation: 'rollout',
      namespace: 'crate',
      target: { kind: 'statefulset', name: 'crate' },
      dryRun: false,
      raw,
    });
    const cron = buildScheduleCronJob(task, { cluster: 'crate', pods: 3 }, { schedule: '0 3 * * 0' });
    const c = cron.spec!.jobTemplate.spec!.template.spec!.containers[0]!;
    expect(c.args).toEqual(expect.arrayContaining(['--pushgateway', 'http://pushgateway.monitoring:9091']));
    expect(c.env).toEqual(
      expect.arrayContaining([{ name: 'CRATE_DECOMMISSION_PUSHGATEWAY_JOB', value: cron.metadata!.name }]),
    );
  });
});
