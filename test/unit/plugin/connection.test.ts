// Talking to a real (local) HTTP server through the real kubeconfig loading and adapter (issue 13): a plain
// http:// server as `kubectl proxy` serves works, --request-timeout ends a hanging request with a clear error
// (it crashed), and an unreachable server is exit 6 naming the server and context, with what to check.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../plugin/cli.js';
import { connectToCluster } from '../../../plugin/connect.js';
import { testContext } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'cd-conn-'));
let server: http.Server;
let port = 0;
let closedPort = 0;
const hanging = new Set<http.ServerResponse>();

beforeAll(async () => {
  server = http.createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.headers['x-test-hang'] || (req.url?.startsWith('/apis/batch/v1') && process.env.__HANG === '1')) {
      hanging.add(res);
      return;
    }
    if (req.url === '/apis/batch/v1') {
      res.end(
        JSON.stringify({
          kind: 'APIResourceList',
          groupVersion: 'batch/v1',
          resources: [{ name: 'jobs', namespaced: true, kind: 'Job', verbs: ['list'] }],
        }),
      );
    } else if (req.url?.startsWith('/apis/batch/v1/namespaces/crate/jobs')) {
      res.end(JSON.stringify({ kind: 'JobList', apiVersion: 'batch/v1', metadata: {}, items: [] }));
    } else {
      res.statusCode = 404;
      res.end(JSON.stringify({ kind: 'Status', code: 404, reason: 'NotFound', message: 'not found' }));
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  // A port nobody listens on: listen, note it, close.
  const tmp = http.createServer();
  await new Promise<void>((r) => tmp.listen(0, '127.0.0.1', r));
  closedPort = (tmp.address() as AddressInfo).port;
  await new Promise<void>((r) => tmp.close(() => r()));
  writeFileSync(
    join(dir, 'kubeconfig'),
    `apiVersion: v1
kind: Config
clusters:
- name: proxy
  cluster: {server: "http://127.0.0.1:${port}"}
- name: gone
  cluster: {server: "http://127.0.0.1:${closedPort}"}
users:
- name: u
  user: {token: t}
contexts:
- name: proxy
  context: {cluster: proxy, user: u, namespace: crate}
- name: gone
  context: {cluster: gone, user: u, namespace: crate}
current-context: proxy
`,
  );
});
afterAll(async () => {
  for (const r of hanging) r.destroy();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

function realContext() {
  const ctx = testContext();
  ctx.connect = async (opts) => {
    ctx.connectCalls += 1;
    return connectToCluster(opts);
  };
  return ctx;
}

describe('the real kubeconfig and adapter against a local server', () => {
  it('a plain http:// server (kubectl proxy) works without --insecure-skip-tls-verify', async () => {
    const ctx = realContext();
    expect(await runCli(['jobs', 'list', '--kubeconfig', join(dir, 'kubeconfig')], ctx), ctx.err.text).toBe(0);
    expect(ctx.out.text).toBe('No runner Jobs found.\n');
  });

  it('--request-timeout ends a hanging request with exit 6 and a clear line (no JavaScript error)', async () => {
    const conn = await connectToCluster({ kubeconfig: join(dir, 'kubeconfig'), requestTimeout: '300ms' });
    process.env.__HANG = '1';
    const t0 = Date.now();
    try {
      const err = await conn.kube.list('batch/v1', 'Job', 'crate').then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(Error);
      expect(String((err as Error).message)).toMatch(
        /cannot reach the Kubernetes API server http:\/\/127\.0\.0\.1:\d+ \(context "proxy", cluster "proxy"\): no answer in time/,
      );
      expect(String((err as Error).message)).not.toMatch(/getter|Cannot set property/);
    } finally {
      delete process.env.__HANG;
    }
    expect(Date.now() - t0).toBeLessThan(5000);
    process.env.__HANG = '1';
    try {
      const ctx = realContext();
      expect(
        await runCli(['jobs', 'list', '--kubeconfig', join(dir, 'kubeconfig'), '--request-timeout', '300ms'], ctx),
      ).toBe(6);
      expect(ctx.err.lines).toHaveLength(1);
      expect(ctx.err.text).toMatch(/raise --request-timeout/);
      expect(ctx.out.text).toBe('');
    } finally {
      delete process.env.__HANG;
    }
  });

  it('a refused connection is exit 6, names server and context, says what to check, no client-library text', async () => {
    const ctx = realContext();
    expect(await runCli(['jobs', 'list', '--kubeconfig', join(dir, 'kubeconfig'), '--context', 'gone'], ctx)).toBe(6);
    expect(ctx.out.text).toBe('');
    expect(ctx.err.lines).toEqual([
      `error: cannot reach the Kubernetes API server http://127.0.0.1:${closedPort} (context "gone", cluster "gone"): connection refused. Check that the cluster is running and that the server address and port are right`,
    ]);
    expect(ctx.err.text).not.toMatch(/Failed to fetch resource metadata|fetch failed/);
  });

  it('also before a rollout (Job mode): exit 6, nothing created', async () => {
    const ctx = realContext();
    expect(
      await runCli(
        ['rollout', 'sts/crate', '--yes', '--kubeconfig', join(dir, 'kubeconfig'), '--context', 'gone'],
        ctx,
      ),
    ).toBe(6);
    expect(ctx.err.text).toMatch(/^error: cannot reach the Kubernetes API server/);
  });
});
