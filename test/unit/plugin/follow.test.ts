// Following never dies: a runner log stream that breaks or ends early is resumed from sinceTime without lost
// or repeated lines; the real log adapter has no body timeout and turns every stream failure into a rejection.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeConfig } from '@kubernetes/client-node';
import { Agent } from 'undici';
import { LogResume, followJob, followPodLog } from '../../../plugin/job-mode.js';
import { createPluginKube } from '../../../shared/adapters/plugin-kube.js';
import type { ProgressSink } from '../../../plugin/progress.js';
import { FakePluginKube, runnerPod, scriptStamp } from './helpers.js';

const NS = 'crate';
const JOB = 'crate-decommission-rollout-crate-abcde';
const POD = `${JOB}-aaaaa`;

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

function job() {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: JOB, namespace: NS },
    spec: { template: { spec: { containers: [] } } },
    status: {},
  };
}

function recorder(): ProgressSink & { lines: string[]; statuses: string[] } {
  const lines: string[] = [];
  const statuses: string[] = [];
  return {
    lines,
    statuses,
    runnerPod: () => {},
    status: (m) => void statuses.push(m),
    line: (l) => void lines.push(l),
    close: async () => {},
  };
}

describe('LogResume', () => {
  it('strips the timestamp, drops lines already shown when the same second is read again, and keeps new ones', () => {
    const r = new LogResume();
    expect(r.sinceTime).toBeUndefined();
    expect(r.accept('2026-01-01T00:00:00.1Z a')).toBe('a');
    expect(r.accept('2026-01-01T00:00:00.25Z b')).toBe('b');
    expect(r.sinceTime).toBe('2026-01-01T00:00:00Z');
    // resumed from 00:00:00: a and b again, then c
    expect(r.accept('2026-01-01T00:00:00.1Z a')).toBeNull();
    expect(r.accept('2026-01-01T00:00:00.25Z b')).toBeNull();
    expect(r.accept('2026-01-01T00:00:00.9Z c')).toBe('c');
    expect(r.accept('2026-01-01T00:00:01.000000001Z d')).toBe('d');
    expect(r.sinceTime).toBe('2026-01-01T00:00:01Z');
    // an older line (a repeat from before) is dropped, a line without a timestamp passes
    expect(r.accept('2026-01-01T00:00:00.9Z c')).toBeNull();
    expect(r.accept('no timestamp here')).toBe('no timestamp here');
  });

  it('compares nanoseconds numerically although Go trims trailing zeros (.5 is later than .123)', () => {
    const r = new LogResume();
    expect(r.accept('2026-01-01T00:00:00.123Z x')).toBe('x');
    expect(r.accept('2026-01-01T00:00:00.5Z y')).toBe('y');
    expect(r.accept('2026-01-01T00:00:00.123Z x')).toBeNull();
    // two different lines with the same timestamp are both kept
    expect(r.accept('2026-01-01T00:00:00.5Z y2')).toBe('y2');
  });
});

describe('followPodLog', () => {
  const lines = Array.from({ length: 12 }, (_, i) => `line ${i}`);

  it('resumes a stream that breaks mid-Job (twice) with sinceTime: every line once, in order', async () => {
    const kube = new FakePluginKube();
    const end = deferred();
    kube.logs.set(`${NS}/${POD}`, {
      lines: [...lines.slice(0, 6)],
      end: end.promise,
      breaks: [
        { after: 3, how: 'error' },
        { after: 2, how: 'error' },
      ],
    });
    kube.put(runnerPod(NS, JOB, POD, { running: true }));
    const got: string[] = [];
    const statuses: string[] = [];
    let terminated = false;
    const follow = followPodLog({
      kube,
      namespace: NS,
      podName: POD,
      onLine: (l) => got.push(l),
      onStatus: (m) => statuses.push(m),
      signal: new AbortController().signal,
      ended: async () => terminated,
      backoffMs: 1,
    });
    await tick(50);
    // the runner writes on while the plugin is following the resumed stream
    for (const l of lines.slice(6)) kube.appendLog(NS, POD, l);
    await tick(20);
    terminated = true;
    end.resolve();
    await follow;
    expect(got).toEqual(lines);
    expect(kube.logRequests.length).toBeGreaterThanOrEqual(3);
    expect(kube.logRequests[0]).toEqual({ pod: POD, timestamps: true });
    // resumed from the second of the last line shown
    expect(kube.logRequests[1]!.sinceTime).toBe(scriptStamp(kube.logs.get(`${NS}/${POD}`)!, 2).slice(0, 19) + 'Z');
    expect(statuses.filter((s) => s.includes('broke')).length).toBe(2);
    expect(statuses[0]).toMatch(
      /log stream of .* broke \(logs of pod crate\/.*: terminated\); resuming from 2026-01-01T00:00:00Z/,
    );
  });

  it('resumes a stream the server closed early while the runner still runs, and stops when the container ended', async () => {
    const kube = new FakePluginKube();
    const end = deferred();
    kube.logs.set(`${NS}/${POD}`, { lines: [...lines], end: end.promise, breaks: [{ after: 5, how: 'end' }] });
    kube.put(runnerPod(NS, JOB, POD, { running: true }));
    const got: string[] = [];
    let terminated = false;
    const follow = followPodLog({
      kube,
      namespace: NS,
      podName: POD,
      onLine: (l) => got.push(l),
      onStatus: () => {},
      signal: new AbortController().signal,
      ended: async () => terminated,
      backoffMs: 1,
    });
    await tick(30);
    expect(got).toEqual(lines);
    terminated = true;
    end.resolve();
    await follow;
    expect(got).toEqual(lines);
  });

  it('reads once more after a break when the container ended meanwhile (its last lines are not lost)', async () => {
    const kube = new FakePluginKube();
    kube.logs.set(`${NS}/${POD}`, { lines: [...lines], breaks: [{ after: 4, how: 'error' }] });
    const got: string[] = [];
    await followPodLog({
      kube,
      namespace: NS,
      podName: POD,
      onLine: (l) => got.push(l),
      onStatus: () => {},
      signal: new AbortController().signal,
      ended: async () => true,
      backoffMs: 1,
    });
    expect(got).toEqual(lines);
    expect(kube.logRequests).toHaveLength(2);
  });

  it('stops at once on abort, even while waiting to resume', async () => {
    const kube = new FakePluginKube();
    kube.logs.set(`${NS}/${POD}`, {
      lines: [...lines],
      breaks: Array.from({ length: 50 }, () => ({ after: 0, how: 'error' as const })),
    });
    const ac = new AbortController();
    const follow = followPodLog({
      kube,
      namespace: NS,
      podName: POD,
      onLine: () => {},
      onStatus: () => {},
      signal: ac.signal,
      ended: async () => false,
      backoffMs: 60_000,
    });
    await tick(20);
    const t = Date.now();
    ac.abort();
    await follow;
    expect(Date.now() - t).toBeLessThan(100);
  });
});

describe('followJob across stream breaks', () => {
  it('shows every runner line exactly once and exits with the runner code', async () => {
    const kube = new FakePluginKube();
    kube.put(job());
    const end = deferred();
    const runnerLines = Array.from({ length: 8 }, (_, i) =>
      JSON.stringify({ ts: '2026-01-01T00:00:00.000Z', level: 'info', msg: `step ${i}` }),
    );
    kube.logs.set(`${NS}/${POD}`, {
      lines: runnerLines,
      end: end.promise,
      breaks: [
        { after: 2, how: 'error' },
        { after: 3, how: 'end' },
      ],
    });
    kube.put(runnerPod(NS, JOB, POD, { running: true }));
    const progress = recorder();
    const follow = followJob({ kube, namespace: NS, jobName: JOB, progress, signal: new AbortController().signal });
    await tick(2600);
    kube.put(runnerPod(NS, JOB, POD, { terminated: { exitCode: 0, message: JSON.stringify({ success: true }) } }));
    end.resolve();
    const outcome = await follow;
    expect(outcome.exitCode).toBe(0);
    expect(progress.lines).toEqual(runnerLines);
  });
});

describe('the real log adapter (HTTP server standing in for the API server)', () => {
  let server: Server | null = null;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r) ?? r(undefined));
    server = null;
  });

  async function serve(handler: (res: ServerResponse, url: URL) => void): Promise<KubeConfig> {
    server = createServer((req, res) => handler(res, new URL(req.url ?? '/', 'http://x')));
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    // client-node's own Agent, with a body timeout short enough for a test (its default is 300 s; undici's timer
    // granularity makes a 200 ms timeout fire within about a second).
    const apply = kc.applySecurityAuthentication.bind(kc);
    kc.applySecurityAuthentication = async (ctx) => {
      await apply(ctx);
      ctx.setDispatcher(new Agent({ bodyTimeout: 200 }));
    };
    return kc;
  }

  it('survives a silence longer than the agent body timeout and asks for timestamps and sinceTime', async () => {
    let query = '';
    const kc = await serve((res, url) => {
      query = url.search;
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('2026-01-01T00:00:00.1Z first\n');
      setTimeout(() => res.end('2026-01-01T00:00:00.2Z second\n'), 1500);
    });
    const got: string[] = [];
    await createPluginKube(kc).streamLogs(NS, POD, 'runner', (l) => got.push(l), new AbortController().signal, {
      timestamps: true,
      sinceTime: '2026-01-01T00:00:00Z',
    });
    expect(got).toEqual(['2026-01-01T00:00:00.1Z first', '2026-01-01T00:00:00.2Z second']);
    expect(query).toContain('follow=true');
    expect(query).toContain('timestamps=true');
    expect(query).toContain('sinceTime=2026-01-01T00%3A00%3A00Z');
  });

  it('rejects (no unhandled error event) when the connection breaks mid-body, dropping the partial line', async () => {
    const kc = await serve((res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('whole\npart');
      setTimeout(() => res.socket?.destroy(), 50);
    });
    const got: string[] = [];
    await expect(
      createPluginKube(kc).streamLogs(NS, POD, 'runner', (l) => got.push(l), new AbortController().signal),
    ).rejects.toMatchObject({ name: 'KubeApiError', reason: 'StreamBroken' });
    expect(got).toEqual(['whole']);
  });

  it('resolves on abort while the stream is silent', async () => {
    const kc = await serve((res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('one\n');
    });
    const ac = new AbortController();
    const got: string[] = [];
    const p = createPluginKube(kc).streamLogs(NS, POD, 'runner', (l) => got.push(l), ac.signal);
    await tick(100);
    ac.abort(new Error('interrupted'));
    await p;
    expect(got).toEqual(['one']);
  });

  it("turns the API server's error Status into a KubeApiError", async () => {
    const kc = await serve((res) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          kind: 'Status',
          code: 400,
          reason: 'BadRequest',
          message: 'container "runner" in pod "x" is waiting to start: ContainerCreating',
        }),
      );
    });
    await expect(
      createPluginKube(kc).streamLogs(NS, POD, 'runner', () => {}, new AbortController().signal),
    ).rejects.toMatchObject({ statusCode: 400, message: expect.stringContaining('waiting to start') });
  });
});
