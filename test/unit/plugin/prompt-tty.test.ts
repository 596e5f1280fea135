// The confirmation prompt on a real terminal (issue 8 item 15): asked whenever stdin is a terminal, whatever
// stdout and stderr are redirected to (`2>err.log`, `2>&1 | tee log`); --yes skips it; without a terminal on
// stdin nobody can answer, and the command goes on as kubectl's own commands do. The built plugin runs in a
// pseudo-terminal (@lydell/node-pty) against a stand-in API server that holds no objects (every GET is 404), so
// the prompt's read-only analysis runs and the test can tell that nothing but reads reached the server.
import { spawn as spawnAsync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn as ptySpawn } from '@lydell/node-pty';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs build script without types
import { pluginBuildOptions } from '../../../scripts/build-options.mjs';
import { confirmOnTerminal } from '../../../plugin/confirm.js';

const root = join(import.meta.dirname, '..', '..', '..');
const node24 = join(root, 'node_modules', 'node', 'bin', 'node');
const out = mkdtempSync(join(tmpdir(), 'cd-prompt-'));
const entry = join(out, 'kubectl-crate_decommission.mjs');
const ENV = { PATH: '/usr/bin:/bin', KUBECONFIG: join(out, 'kubeconfig'), NO_COLOR: '1', TERM: 'dumb' };

/** Every request the stand-in API server got, as `METHOD path`. */
const requests: string[] = [];
let server: Server;

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        kind: 'Status',
        apiVersion: 'v1',
        status: 'Failure',
        reason: 'NotFound',
        code: 404,
        message: 'not found',
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  writeFileSync(
    join(out, 'kubeconfig'),
    `apiVersion: v1
kind: Config
clusters: [{name: pty-cluster, cluster: {server: "http://127.0.0.1:${port}"}}]
users: [{name: pty-user, user: {token: t0ken}}]
contexts: [{name: pty-ctx, context: {cluster: pty-cluster, user: pty-user, namespace: crate}}]
current-context: pty-ctx
`,
  );
  await build({ ...(pluginBuildOptions(out) as object), absWorkingDir: root, logLevel: 'silent' });
}, 120_000);
afterAll(() => {
  server?.close();
  rmSync(out, { recursive: true, force: true });
});

/** Run a shell line in a pseudo-terminal; answer `answer` once the prompt shows. */
function inTerminal(shellLine: string, answer: string | null): Promise<{ code: number; screen: string }> {
  return new Promise((resolve, reject) => {
    const p = ptySpawn('/bin/sh', ['-c', shellLine], { cols: 200, rows: 40, cwd: out, env: ENV });
    let screen = '';
    let answered = false;
    const timer = setTimeout(() => {
      p.kill();
      reject(new Error(`timed out; screen so far:\n${screen}`));
    }, 20_000);
    p.onData((d) => {
      screen += d;
      if (answer !== null && !answered && screen.includes('[y/N]')) {
        answered = true;
        p.write(`${answer}\r`);
      }
    });
    p.onExit(({ exitCode }) => {
      clearTimeout(timer);
      resolve({ code: exitCode, screen });
    });
  });
}

const plugin = `exec ${node24} ${entry} rollout sts/crate -n crate`;

describe('the prompt on a terminal', () => {
  it.each([
    ['stderr to a file', '2>err.log'],
    ['stderr and stdout through a pipe', '2>&1 | cat >out.log'],
    ['stdout to a file', '>out.log'],
    ['nothing redirected', ''],
  ])('asks when stdin is a terminal (%s); "n" changes nothing', async (_name, redirect) => {
    rmSync(join(out, 'err.log'), { force: true });
    const line = redirect.startsWith('2>&1 |')
      ? `${plugin.replace(/^exec /, '')} ${redirect}`
      : `${plugin} ${redirect}`;
    requests.length = 0;
    const r = await inTerminal(line, 'n');
    expect(r.screen).toMatch(/statefulset\/crate|sts\/crate/);
    expect(r.screen).toContain('[y/N]');
    // The prompt names the kubeconfig's context, cluster and server, and the namespace (issue 13).
    expect(r.screen).toContain(
      `context pty-ctx, cluster pty-cluster (http://127.0.0.1:${(server.address() as AddressInfo).port}), namespace crate`,
    );
    // Answered no: nothing changed; the server got reads only.
    const all =
      r.screen +
      (redirect === '2>err.log' ? readFileSync(join(out, 'err.log'), 'utf8') : '') +
      (redirect.includes('out.log') ? readFileSync(join(out, 'out.log'), 'utf8') : '');
    expect(all).toMatch(/nothing (was )?changed/);
    expect(requests.filter((q) => !q.startsWith('GET '))).toEqual([]);
  });

  it('--yes does not ask', async () => {
    const r = await inTerminal(`${plugin} --yes 2>err.log`, null);
    expect(r.screen).not.toContain('[y/N]');
    expect(readFileSync(join(out, 'err.log'), 'utf8')).toMatch(/^error: /m);
  });
});

describe('without a terminal on stdin', () => {
  it('does not ask and goes on (as kubectl does): here it finds no StatefulSet, not waiting for an answer', async () => {
    // Asynchronous: the stand-in API server answers from this process.
    const r = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const p = spawnAsync(node24, [entry, 'rollout', 'sts/crate', '-n', 'crate'], {
        cwd: out,
        env: ENV,
        stdio: ['pipe', 'pipe', 'pipe'],
        timeout: 20_000,
      });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      p.stdin.end();
      p.on('close', (status) => resolve({ status, stdout, stderr }));
    });
    expect(r.stderr).not.toContain('[y/N]');
    expect(r.stdout).not.toContain('[y/N]');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/^error: /m);
  });
});

describe('confirmOnTerminal', () => {
  const question = 'Restart?';
  it('returns true without asking when stdin is not a terminal', async () => {
    let opened = 0;
    const ok = await confirmOnTerminal(question, {
      stdin: { isTTY: false } as never,
      stderr: { isTTY: true } as never,
      openTerminal: () => {
        opened++;
        return null;
      },
      signal: new AbortController().signal,
    });
    expect(ok).toBe(true);
    expect(opened).toBe(0);
  });
});
