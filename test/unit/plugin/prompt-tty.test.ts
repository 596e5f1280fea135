// The confirmation prompt on a real terminal (issue 8 item 15): asked whenever stdin is a terminal, whatever
// stdout and stderr are redirected to (`2>err.log`, `2>&1 | tee log`); --yes skips it; without a terminal on
// stdin nobody can answer, and the command goes on as kubectl's own commands do. The built plugin runs in a
// pseudo-terminal (@lydell/node-pty); nothing reaches a cluster (KUBECONFIG points nowhere).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
const ENV = { PATH: '/usr/bin:/bin', KUBECONFIG: join(out, 'no-kubeconfig'), NO_COLOR: '1', TERM: 'dumb' };

beforeAll(async () => {
  await build({ ...(pluginBuildOptions(out) as object), absWorkingDir: root, logLevel: 'silent' });
}, 120_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

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
    const line = redirect.startsWith('2>&1 |') ? `${plugin.replace(/^exec /, '')} ${redirect}` : `${plugin} ${redirect}`;
    const r = await inTerminal(line, 'n');
    expect(r.screen).toMatch(/statefulset\/crate|sts\/crate/);
    expect(r.screen).toContain('[y/N]');
    // Answered no: the cluster was never contacted (the kubeconfig does not exist, so a connection would fail).
    const all = r.screen + (redirect === '2>err.log' ? readFileSync(join(out, 'err.log'), 'utf8') : '') + (redirect.includes('out.log') ? readFileSync(join(out, 'out.log'), 'utf8') : '');
    expect(all).toMatch(/nothing (was )?changed/);
    expect(all).not.toMatch(/kubeconfig/i);
  });

  it('--yes does not ask', async () => {
    const r = await inTerminal(`${plugin} --yes 2>err.log`, null);
    expect(r.screen).not.toContain('[y/N]');
    expect(readFileSync(join(out, 'err.log'), 'utf8')).toMatch(/^error: /m);
  });
});

describe('without a terminal on stdin', () => {
  it('does not ask and goes on (as kubectl does): here it fails to connect, not waiting for an answer', () => {
    const r = spawnSync(node24, [entry, 'rollout', 'sts/crate', '-n', 'crate'], { cwd: out, env: ENV, encoding: 'utf8', input: '', timeout: 20_000 });
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
