// Completion beyond resource names (issue 13): `plan -f <TAB>` offers manifest files, -n/--namespace the cluster's
// namespaces, --context/--cluster/--user the kubeconfig's names (same 2 s budget), and `completion
// bash|zsh|fish|powershell` scripts. The bash, zsh and fish scripts run in the real shells (Debian's zsh and fish:
// README "Develop") against a stand-in executable; fish completes through its own `complete -C`, zsh with compadd
// and _files recorded (they only work inside zsh's completion widget). PowerShell (pwsh) is not in Debian: its
// script is checked as text only.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../plugin/cli.js';
import {
  COMPLETION_SCRIPT,
  SHELL_SCRIPTS,
  completeCommandLine,
  kubeResourceLister,
  type ResourceKind,
} from '../../../plugin/commands/completion.js';
// @ts-expect-error: a plain .mjs build script without types
import { COMPLETION_HELPER } from '../../../scripts/build-options.mjs';
import { FakePluginKube, testContext } from './helpers.js';

describe('flag values', () => {
  it('plan -f <TAB> asks the shell for .json/.yaml/.yml files (cobra FilterFileExt)', async () => {
    for (const flag of ['-f', '--filename']) {
      const r = await completeCommandLine(['plan', flag, ''], async () => []);
      expect(r).toEqual({ candidates: ['json', 'yaml', 'yml'], directive: 8 });
    }
    const ctx = testContext();
    expect(await runCli(['__complete', 'plan', '-f', 'sts'], ctx)).toBe(0);
    expect(ctx.out.lines).toEqual(['json', 'yaml', 'yml', ':8']);
  });

  it.each([
    [['rollout', '-n', ''], 'namespace', ['crate', 'default', 'kube-system']],
    [['jobs', 'list', '--namespace', 'c'], 'namespace', ['crate']],
    [['rollout', 'x', '--context', ''], 'context', ['prod', 'staging']],
    [['health', '--cluster', 'p'], 'cluster', ['prod-cluster']],
    [['--user', ''], 'user', ['admin']],
  ] as const)('%j completes %s names', async (words, kind, expected) => {
    const asked: ResourceKind[] = [];
    const names: Record<string, string[]> = {
      namespace: ['kube-system', 'crate', 'default'],
      context: ['staging', 'prod'],
      cluster: ['prod-cluster'],
      user: ['admin'],
    };
    const r = await completeCommandLine([...words], async (k) => {
      asked.push(k);
      return names[k] ?? [];
    });
    expect(asked).toEqual([kind]);
    expect(r).toEqual({ candidates: expected, directive: 4 });
  });

  it('a namespace lookup that hangs gives nothing within the budget', async () => {
    const t0 = Date.now();
    const r = await completeCommandLine(['rollout', '-n', ''], () => new Promise(() => undefined), { timeoutMs: 50 });
    expect(r.candidates).toEqual([]);
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('the real lister: namespaces from the API server, contexts/clusters/users from the kubeconfig without connecting', async () => {
    const kube = new FakePluginKube();
    kube.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'crate' } });
    kube.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
    const ctx = testContext({ kube });
    const asked: Array<{ kubeconfig?: string }> = [];
    ctx.kubeconfigNames = async (opts) => {
      asked.push(opts);
      return { contexts: ['a', 'b'], clusters: ['c1'], users: ['u1'] };
    };
    const lister = kubeResourceLister(ctx, { kubeconfig: '/tmp/kc' });
    expect((await lister('namespace', undefined)).sort()).toEqual(['crate', 'default']);
    const before = ctx.connectCalls;
    expect(await lister('context', undefined)).toEqual(['a', 'b']);
    expect(await lister('cluster', undefined)).toEqual(['c1']);
    expect(await lister('user', undefined)).toEqual(['u1']);
    expect(ctx.connectCalls).toBe(before);
    expect(asked[0]).toEqual({ kubeconfig: '/tmp/kc' });
  });
});

describe('completion scripts', () => {
  it('completion (and completion kubectl) prints the kubectl helper, which build:binary writes next to the executable', async () => {
    for (const args of [['completion'], ['completion', 'kubectl']]) {
      const ctx = testContext();
      expect(await runCli(args, ctx)).toBe(0);
      expect(ctx.out.text).toBe(COMPLETION_SCRIPT);
    }
    expect(COMPLETION_HELPER).toBe(COMPLETION_SCRIPT);
  });

  it.each(['bash', 'zsh', 'fish', 'powershell'] as const)(
    'completion %s prints a script calling __complete',
    async (shell) => {
      const ctx = testContext();
      expect(await runCli(['completion', shell], ctx)).toBe(0);
      expect(ctx.out.text).toBe(SHELL_SCRIPTS[shell]);
      expect(ctx.out.text).toContain('kubectl-crate_decommission __complete');
      expect(ctx.out.text).not.toContain('\\$'); // the template literal's escapes do not leak
    },
  );

  it('completion tcsh is bad input', async () => {
    const ctx = testContext();
    expect(await runCli(['completion', 'tcsh'], ctx)).toBe(2);
    expect(ctx.err.text).toMatch(
      /^error: unknown shell "tcsh"\. Use kubectl \(default\), bash, zsh, fish or powershell\n$/,
    );
  });

  it('__complete completion <TAB> offers the shells', async () => {
    const ctx = testContext();
    await runCli(['__complete', 'completion', ''], ctx);
    expect(ctx.out.lines).toEqual(['kubectl', 'bash', 'zsh', 'fish', 'powershell', ':4']);
  });

  const dir = mkdtempSync(join(tmpdir(), 'cd-completion-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Run the bash script with COMP_WORDS set, against a stand-in that logs its argv and answers `answer`. */
  function bashComplete(words: string[], answer: string, files: string[] = []): { reply: string[]; argv: string } {
    const bin = join(dir, 'bin');
    const work = join(dir, `work-${Math.random().toString(36).slice(2)}`);
    mkdirSync(bin, { recursive: true });
    mkdirSync(work, { recursive: true });
    for (const f of files) {
      if (f.endsWith('/')) mkdirSync(join(work, f), { recursive: true });
      else writeFileSync(join(work, f), '');
    }
    writeFileSync(
      join(bin, 'kubectl-crate_decommission'),
      `#!/bin/sh\nprintf '%s\\n' "$*" > "${dir}/argv"\nprintf '${answer.replace(/\n/g, '\\n')}'\n`,
      { mode: 0o755 },
    );
    writeFileSync(join(dir, 'script.bash'), SHELL_SCRIPTS.bash);
    const quoted = words.map((w) => `'${w}'`).join(' ');
    const script = `source "${dir}/script.bash"; COMP_WORDS=(kubectl-crate_decommission ${quoted}); COMP_CWORD=${words.length}; _kubectl_crate_decommission; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const r = spawnSync('bash', ['-c', script], { cwd: work, encoding: 'utf8', env: { PATH: `${bin}:/usr/bin:/bin` } });
    expect(r.status, r.stderr).toBe(0);
    const argv = spawnSync('cat', [join(dir, 'argv')], { encoding: 'utf8' }).stdout.replace(/\n$/, '');
    return { reply: r.stdout.split('\n').filter(Boolean).sort(), argv };
  }

  it('bash: passes the words to __complete and offers the answer filtered by the current word', () => {
    const r = bashComplete(['ro'], 'rollout\nrestart\n:4\n');
    expect(r.argv).toBe('__complete ro');
    expect(r.reply).toEqual(['rollout']);
  });

  it('bash: FilterFileExt offers the manifest files and folders only', () => {
    const r = bashComplete(['plan', '-f', ''], 'json\nyaml\nyml\n:8\n', ['a.yaml', 'b.json', 'c.txt', 'dir/']);
    expect(r.argv).toBe('__complete plan -f ');
    expect(r.reply).toEqual(['a.yaml', 'b.json', 'dir']);
  });

  /** A stand-in executable logging its argv and answering `answer`, and a work dir holding `files`. */
  function standIn(answer: string, files: string[]): { bin: string; work: string } {
    const bin = join(dir, `bin-${Math.random().toString(36).slice(2)}`);
    const work = join(dir, `work-${Math.random().toString(36).slice(2)}`);
    mkdirSync(bin, { recursive: true });
    mkdirSync(work, { recursive: true });
    for (const f of files) {
      if (f.endsWith('/')) mkdirSync(join(work, f), { recursive: true });
      else writeFileSync(join(work, f), '');
    }
    writeFileSync(
      join(bin, 'kubectl-crate_decommission'),
      `#!/bin/sh\nprintf '%s\\n' "$*" > "${dir}/argv"\nprintf '${answer.replace(/\n/g, '\\n')}'\n`,
      { mode: 0o755 },
    );
    return { bin, work };
  }

  const argvSeen = () => spawnSync('cat', [join(dir, 'argv')], { encoding: 'utf8' }).stdout.replace(/\n$/, '');

  function fishComplete(line: string, answer: string, files: string[] = []): { reply: string[]; argv: string } {
    const { bin, work } = standIn(answer, files);
    writeFileSync(join(dir, 'script.fish'), SHELL_SCRIPTS.fish);
    const r = spawnSync('fish', ['--no-config', '-c', `source '${dir}/script.fish'; complete -C'${line}'`], {
      cwd: work,
      encoding: 'utf8',
      env: { PATH: `${bin}:/usr/bin:/bin`, HOME: work },
    });
    expect(r.error, 'fish is not installed (apt-get install fish)').toBeUndefined();
    expect(r.status, r.stderr).toBe(0);
    return {
      reply: r.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t')[0]!)
        .sort(),
      argv: argvSeen(),
    };
  }

  it('fish (real `complete -C`): passes the words to __complete and offers the matching answers', () => {
    const r = fishComplete('kubectl-crate_decommission ro', 'rollout\nrestart\n:4\n');
    expect(r.argv).toBe('__complete ro');
    expect(r.reply).toEqual(['rollout']);
  });

  it('fish: FilterFileExt offers the manifest files (every extension given) and folders only', () => {
    const r = fishComplete('kubectl-crate_decommission plan -f ', 'json\nyaml\nyml\n:8\n', [
      'a.yaml',
      'b.json',
      'c.txt',
      'd.yml',
      'dir/',
    ]);
    expect(r.argv).toBe('__complete plan -f ');
    expect(r.reply).toEqual(['a.yaml', 'b.json', 'd.yml', 'dir/']);
  });

  function zshComplete(words: string[], answer: string): { calls: string[]; argv: string } {
    const { bin, work } = standIn(answer, []);
    writeFileSync(join(dir, 'script.zsh'), SHELL_SCRIPTS.zsh);
    const quoted = words.map((w) => `'${w}'`).join(' ');
    // compdef exists only with compinit; compadd and _files only inside the completion widget: record their arguments.
    const script = [
      'compdef() { :; }',
      `source '${dir}/script.zsh'`,
      'compadd() { print -r -- "compadd $*"; }',
      '_files() { print -r -- "_files $*"; }',
      `words=(kubectl-crate_decommission ${quoted})`,
      `CURRENT=${words.length + 1}`,
      '_kubectl_crate_decommission',
    ].join('\n');
    const r = spawnSync('zsh', ['-f', '-c', script], {
      cwd: work,
      encoding: 'utf8',
      env: { PATH: `${bin}:/usr/bin:/bin`, HOME: work },
    });
    expect(r.error, 'zsh is not installed (apt-get install zsh)').toBeUndefined();
    expect(r.status, r.stderr).toBe(0);
    return { calls: r.stdout.split('\n').filter(Boolean), argv: argvSeen() };
  }

  it('zsh (real zsh): passes the words up to the cursor to __complete and adds the answers', () => {
    const r = zshComplete(['ro'], 'rollout\nrestart\n:4\n');
    expect(r.argv).toBe('__complete ro');
    expect(r.calls).toEqual(['compadd -- rollout restart']);
  });

  it('zsh: NoSpace adds without a suffix; FilterFileExt asks _files for the extensions', () => {
    expect(zshComplete(['rollout', 'sts/'], 'sts/a\nsts/b\n:2\n').calls).toEqual(['compadd -S  -- sts/a sts/b']);
    const r = zshComplete(['plan', '-f', ''], 'json\nyaml\nyml\n:8\n');
    expect(r.argv).toBe('__complete plan -f ');
    expect(r.calls).toEqual(['_files -g *.(json|yaml|yml)']);
  });
});
