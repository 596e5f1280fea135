// Getting the metrics out: Pushgateway pushes (grouping key, auth, coalescing) and the textfile; a push or read
// failure, an error answer or a hanging Pushgateway never fails (nor holds up) the operation.
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeCluster } from '../../../shared/discovery.js';
import { rollingRestart } from '../../../shared/rolling.js';
import { parseExposition, RunMetrics } from '../../../shared/metrics.js';
import { MeteredRun } from '../../../shared/metrics-wiring.js';
import { checkPushgatewayUrl, MetricsPublisher, type Fetch } from '../../../shared/metrics-push.js';
import { createLogger } from '../../../shared/log.js';
import { type World } from '../../support/fakes/world.js';
import { fastGate, world } from '../engine/helpers.js';

const ns = 'crate';

async function rollWith(w: World, opts: { fetch?: Fetch; url?: string; metricsFile?: string; timeoutMs?: number }) {
  const run = new MeteredRun({
    operation: 'rollout',
    namespace: ns,
    cluster: w.statefulSetName,
    log: w.log,
    now: () => w.clock.now(),
    ...(opts.url || opts.fetch ? { pushgateway: { url: opts.url ?? 'http://pgw.test:9091' } } : {}),
    ...(opts.metricsFile ? { metricsFile: opts.metricsFile } : {}),
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
    ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
  });
  const deps = run.deps(w.deps());
  const cluster = await run
    .engine({ analyzeCluster })
    .analyzeCluster(deps, { namespace: ns, kind: 'statefulset', name: w.statefulSetName } as never);
  const result = await rollingRestart(deps, { cluster, ...fastGate });
  const t0 = performance.now();
  await run.finish(result as unknown as Record<string, unknown>);
  return { run, result, finishMs: performance.now() - t0 };
}

const metricWarnings = (w: World) => w.log.lines.filter((l) => l.fields?.step === 'metrics' && l.level === 'warn');

describe('push failures never fail the operation', () => {
  it('an unreachable Pushgateway: the rollout succeeds, one warning (no credentials in it), the rest at debug', async () => {
    const w = await world({ replicas: 3 });
    let calls = 0;
    const { result, run } = await rollWith(w, {
      url: 'http://user:s3cr3t-pw@pgw.test:9091',
      fetch: async () => {
        calls++;
        throw new Error('connect ECONNREFUSED 10.0.0.9:9091');
      },
    });
    expect(result.success).toBe(true);
    expect(calls).toBeGreaterThan(2);
    const warns = metricWarnings(w);
    expect(warns).toHaveLength(1);
    expect(warns[0]!.message).toMatch(
      /Could not .*Pushgateway http:\/\/pgw\.test:9091.*ECONNREFUSED.*the operation goes on/,
    );
    expect(w.log.text()).not.toContain('s3cr3t-pw');
    expect(run.publisher.failures).toBeGreaterThan(1);
    expect(run.publisher.pushes).toBe(0);
  });

  it('an error answer (HTTP 500) is logged, not thrown', async () => {
    const w = await world({ replicas: 3 });
    const { result } = await rollWith(w, {
      fetch: async () => ({ ok: false, status: 500, text: async () => 'pushed metrics are invalid' }),
    });
    expect(result.success).toBe(true);
    expect(metricWarnings(w)[0]!.message).toMatch(/HTTP 500/);
  });

  it('a Pushgateway that never answers: every push is cut off by the timeout; the final publish returns in time', async () => {
    const w = await world({ replicas: 3 });
    const hanging: Fetch = (_url, init) =>
      new Promise((_resolve, reject) =>
        init.signal.addEventListener('abort', () => reject(init.signal.reason as Error), { once: true }),
      );
    const { result, finishMs } = await rollWith(w, { fetch: hanging, timeoutMs: 100 });
    expect(result.success).toBe(true);
    expect(finishMs).toBeLessThan(3000);
    expect(metricWarnings(w)).toHaveLength(1);
  });
});

describe('Pushgateway pushes', () => {
  it('POSTs to the group job/namespace/cluster with Basic auth from the URL, after reading the group once', async () => {
    const w = await world({ replicas: 3 });
    const calls: Array<{ method: string; url: string; auth: string | undefined; body: string | undefined }> = [];
    const prior = `crate_decommission_operations_total{namespace="crate",cluster="crate",job="crate-decommission",instance="",operation="rollout",result="success",error_kind="none"} 6\n`;
    await rollWith(w, {
      url: 'http://ops:pa%24%24@pgw.test:9091/',
      fetch: async (url, init) => {
        calls.push({ method: init.method, url, auth: init.headers.authorization, body: init.body });
        return { ok: true, status: 200, text: async () => (init.method === 'GET' ? prior : '') };
      },
    });
    expect(calls[0]).toMatchObject({ method: 'GET', url: 'http://pgw.test:9091/metrics' });
    expect(calls.filter((c) => c.method === 'GET')).toHaveLength(1);
    const posts = calls.filter((c) => c.method === 'POST');
    expect(posts.length).toBeGreaterThan(3);
    for (const p of posts) {
      expect(p.url).toBe('http://pgw.test:9091/metrics/job/crate-decommission/namespace/crate/cluster/crate');
      expect(p.auth).toBe(`Basic ${Buffer.from('ops:pa$$').toString('base64')}`);
    }
    const last = parseExposition(posts[posts.length - 1]!.body!);
    expect(
      last.find((s) => s.name === 'crate_decommission_operations_total' && s.labels.result === 'success')?.value,
    ).toBe(7);
  });

  it('coalesces: never two pushes at once, and the last push carries the final state', async () => {
    const w = await world({ replicas: 3 });
    let inFlight = 0;
    let maxInFlight = 0;
    const bodies: string[] = [];
    const { run } = await rollWith(w, {
      fetch: async (_url, init) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setTimeout(r, 5));
        if (init.method === 'POST') bodies.push(init.body!);
        inFlight--;
        return { ok: true, status: 200, text: async () => '' };
      },
    });
    expect(maxInFlight).toBe(1);
    expect(bodies[bodies.length - 1]).toBe(await run.metrics.text());
  });

  it('grouping key path and URL checks', async () => {
    // The path a push goes to, for a job name: what MetricsPublisher POSTs to.
    const groupPath = async (job: string, namespace: string, cluster: string) => {
      const posts: string[] = [];
      const fetch: Fetch = async (url, init) => {
        if (init.method === 'POST') posts.push(url);
        return { ok: true, status: 200, text: async () => '' };
      };
      const publisher = new MetricsPublisher({
        metrics: new RunMetrics({ namespace, cluster, operation: 'rollout', now: () => 0 }),
        log: createLogger({ format: 'json', level: 'error', write: () => {} }),
        pushgateway: { url: 'http://pgw.test:9091', job },
        fetch,
      });
      await publisher.flush();
      expect(posts).toHaveLength(1);
      return posts[0]!.slice('http://pgw.test:9091'.length);
    };
    expect(await groupPath('crate-decommission', 'crate', 'c1')).toBe(
      '/metrics/job/crate-decommission/namespace/crate/cluster/c1',
    );
    expect(await groupPath('a/b', 'crate', 'c1')).toBe(
      `/metrics/job@base64/${Buffer.from('a/b').toString('base64url')}/namespace/crate/cluster/c1`,
    );
    expect(checkPushgatewayUrl('http://pgw:9091/')).toEqual({ url: 'http://pgw:9091' });
    expect(checkPushgatewayUrl('pgw:9091')).toHaveProperty('error');
    expect(checkPushgatewayUrl('ftp://pgw')).toHaveProperty('error');
    expect(checkPushgatewayUrl('http://pgw:9091/?x=1')).toHaveProperty('error');
    expect(JSON.stringify(checkPushgatewayUrl('nonsense password=hunter2'))).not.toContain('hunter2');
  });
});

describe('--metrics-file (textfile collector)', () => {
  it('writes the exposition text atomically and the next run counts on from it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cdk-metrics-'));
    const file = join(dir, 'textfile', 'crate_decommission.prom');
    await rollWith(await world({ replicas: 3 }), { metricsFile: file });
    const first = parseExposition(await readFile(file, 'utf8'));
    const ops = (s: typeof first) =>
      s.find((x) => x.name === 'crate_decommission_operations_total' && x.labels.result === 'success')?.value;
    expect(ops(first)).toBe(1);
    await rollWith(await world({ replicas: 3 }), { metricsFile: file });
    expect(ops(parseExposition(await readFile(file, 'utf8')))).toBe(2);
    expect((await readdir(join(dir, 'textfile'))).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('an unwritable path is logged, the operation still succeeds', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cdk-metrics-'));
    const blocker = join(dir, 'file');
    await writeFile(blocker, 'x');
    const w = await world({ replicas: 3 });
    const { result } = await rollWith(w, { metricsFile: join(blocker, 'sub', 'm.prom') });
    expect(result.success).toBe(true);
    expect(metricWarnings(w)).toHaveLength(1);
  });
});
