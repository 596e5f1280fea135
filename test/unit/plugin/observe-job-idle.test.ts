// Found by the e2e kill points (test/e2e/kill-points.e2e.ts): a rollout whose Job retried a third time made the
// plugin exit 13 ("Detected unsettled top-level await") while it waited for the next runner pod. client-node's
// Watch ends a watch that is silent for a while; the Job's third backoff is 40 s, with no log stream open and no
// event, so both watches of observeJob ended and their re-watch timers were unref'd: nothing kept the process
// alive. Any wait without an event longer than the watch's idle timeout does it (a runner pod Pending on an image
// pull).
// Here a fake API server ends every watch at once; the built observeJob runs in a child process that waits for the
// Job's next change, and must get it (exit 0) instead of dying. An ended watch is resumed from the last
// resourceVersion it saw, without a new LIST (issue 9: the plugin re-listed pods and Jobs every 30 s of silence,
// 45 of its 55 requests in a 50-pod rollout on the test cluster).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..', '..');
const out = mkdtempSync(join(tmpdir(), 'cd-observe-'));
let server: http.Server;
let url = '';
let lists = 0;
/** The resourceVersion each Job WATCH asked for. */
const jobWatches: string[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    res.setHeader('content-type', 'application/json');
    if (u.searchParams.get('watch') === 'true') {
      if (u.pathname.endsWith('/jobs')) jobWatches.push(u.searchParams.get('resourceVersion') ?? '');
      res.writeHead(200);
      // The third Job watch delivers a change; every other watch ends at once, silent (as client-node ends a
      // silent one after its idle timeout, or the apiserver after its request timeout).
      if (u.pathname.endsWith('/jobs') && jobWatches.length === 3) {
        const job = {
          apiVersion: 'batch/v1',
          kind: 'Job',
          metadata: { name: 'job', namespace: 'ns', resourceVersion: '7' },
          status: { active: 1 },
        };
        res.write(`${JSON.stringify({ type: 'MODIFIED', object: job })}\n`);
      }
      res.end();
      return;
    }
    // API discovery (client-node's object API looks the resource up first).
    if (u.pathname === '/apis/batch/v1') {
      res.end(
        JSON.stringify({
          kind: 'APIResourceList',
          groupVersion: 'batch/v1',
          resources: [{ name: 'jobs', namespaced: true, kind: 'Job', verbs: ['list', 'watch'] }],
        }),
      );
      return;
    }
    if (u.pathname === '/api/v1') {
      res.end(
        JSON.stringify({
          kind: 'APIResourceList',
          groupVersion: 'v1',
          resources: [{ name: 'pods', namespaced: true, kind: 'Pod', verbs: ['list', 'watch'] }],
        }),
      );
      return;
    }
    if (u.pathname.endsWith('/jobs')) {
      lists += 1;
      const item = {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: 'job', namespace: 'ns', resourceVersion: String(lists) },
        status: { active: 1 },
      };
      res.end(
        JSON.stringify({
          apiVersion: 'batch/v1',
          kind: 'JobList',
          metadata: { resourceVersion: String(lists) },
          items: [item],
        }),
      );
      return;
    }
    res.end(JSON.stringify({ apiVersion: 'v1', kind: 'PodList', metadata: { resourceVersion: '1' }, items: [] }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  writeFileSync(
    join(out, 'entry.ts'),
    `import { KubeConfig } from '@kubernetes/client-node';
import { createPluginKube } from ${JSON.stringify(join(root, 'shared', 'adapters', 'plugin-kube.ts'))};
const kc = new KubeConfig();
kc.loadFromOptions({ clusters: [{ name: 'c', server: process.env.SERVER, skipTLSVerify: true }], users: [{ name: 'u' }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x' });
const kube = createPluginKube(kc);
let stop: (() => void) | undefined;
await new Promise<void>(async (resolve) => {
  stop = await kube.observeJob('ns', 'job', (s) => {
    // The list gives resourceVersion 1; the change the third watch delivers is version 7.
    if (Number(s.job?.metadata?.resourceVersion ?? 0) > 1) resolve();
  });
});
stop?.();
console.log('saw the change after the watches ended');
`,
  );
  await build({
    entryPoints: [join(out, 'entry.ts')],
    outfile: join(out, 'entry.mjs'),
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    absWorkingDir: root,
    nodePaths: [join(root, 'node_modules')],
    external: ['@temporalio/*'],
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    logLevel: 'silent',
  });
}, 120_000);

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(out, { recursive: true, force: true });
});

describe('observeJob keeps the process alive while its watches are re-established', () => {
  it('every watch ends at once: it is resumed from its resourceVersion (no new LIST), the process does not exit 13 in between', async () => {
    const node = join(root, 'node_modules', 'node', 'bin', 'node');
    const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(node, [join(out, 'entry.mjs')], {
        env: { PATH: '/usr/bin:/bin', SERVER: url },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const t = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.on('close', (code) => {
        clearTimeout(t);
        resolve({ code, stdout, stderr });
      });
    });
    expect(r.stderr).not.toContain('unsettled top-level await');
    expect({ code: r.code, stdout: r.stdout.trim() }).toEqual({
      code: 0,
      stdout: 'saw the change after the watches ended',
    });
    // One LIST of the Job; each WATCH after it resumes from the list's version (the ended watches delivered none).
    expect(lists).toBe(1);
    expect(jobWatches).toEqual(['1', '1', '1']);
  }, 30_000);
});
