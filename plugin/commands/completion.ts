// `completion`: shell completion the kubectl way. kubectl (>= 1.26) completes plugin arguments by running an
// executable `kubectl_complete-crate_decommission` on the PATH; `completion` prints that executable, and the
// hidden `__complete` answers it in kubectl's (cobra's) protocol: one candidate a line, then `:<directive>`.
import type { Argv } from 'yargs';
import type { CommandEnv } from './common.js';

export const COMPLETION_SCRIPT = `#!/usr/bin/env sh
# kubectl calls this to complete "kubectl crate-decommission ..." (kubectl >= 1.26).
exec kubectl-crate_decommission __complete "$@"
`;

/** cobra's ShellCompDirectiveNoFileComp. */
const NO_FILE_COMP = 4;

export function declareCompletion(y: Argv, env: CommandEnv): Argv {
  return y
    .command(
      'completion',
      'Print the kubectl completion helper: save it as an executable kubectl_complete-crate_decommission on your PATH',
      (b) =>
        b.example(
          '$0 completion > ~/.local/bin/kubectl_complete-crate_decommission && chmod +x ~/.local/bin/kubectl_complete-crate_decommission',
          'Then `kubectl crate-decommission <TAB>` completes (with kubectl completion enabled)',
        ),
      () =>
        env.select(async () => {
          env.ctx.stdout.write(COMPLETION_SCRIPT);
          return 0;
        }),
    );
}

const GLOBAL_FLAGS = [
  '--kubeconfig', '--context', '--cluster', '--user', '--namespace', '--as', '--as-group', '--request-timeout',
  '--insecure-skip-tls-verify', '--output', '--dry-run', '--yes', '--color', '--local', '--image', '--help',
];
const ENGINE_FLAGS = ['--timeout', '--min-availability', '--allocation', '--pod-ready-timeout', '--health-timeout'];

/** The command tree: subcommands and the flags each command adds to the global ones. */
const TREE: Record<string, { sub?: Record<string, string[]>; flags?: string[] }> = {
  rollout: { flags: ENGINE_FLAGS },
  restart: { flags: ENGINE_FLAGS },
  decommission: { flags: ['--timeout', '--min-availability', '--allocation', '--health-timeout'] },
  plan: { flags: ['--filename', ...ENGINE_FLAGS] },
  health: { flags: ['--health-timeout'] },
  schedule: {
    sub: {
      create: ['--schedule', '--time-zone', '--suspend', ...ENGINE_FLAGS],
      update: ['--schedule', '--time-zone', '--suspend', ...ENGINE_FLAGS],
      delete: [],
      list: ['--all-namespaces'],
    },
  },
  rbac: { sub: { install: ['--cluster-wide', '--service-account'], uninstall: ['--cluster-wide', '--service-account'] } },
  jobs: { sub: { list: ['--all-namespaces'], attach: [], cancel: ['--grace-period'] } },
  completion: {},
};

const VALUES: Record<string, string[]> = {
  '--output': ['text', 'json', 'yaml'],
  '-o': ['text', 'json', 'yaml'],
  '--color': ['auto', 'always', 'never'],
  '--min-availability': ['NONE', 'PRIMARIES', 'FULL'],
  '--allocation': ['primaries', 'new_primaries'],
};

/** Candidates for the words typed so far (the last one is being completed, possibly ''). Static: no cluster calls. */
export function completeWords(words: string[]): string[] {
  const typed = words.length > 0 ? words : [''];
  const current = typed[typed.length - 1] ?? '';
  const before = typed.slice(0, -1);
  const previous = before[before.length - 1];
  if (previous && VALUES[previous]) return VALUES[previous].filter((v) => v.startsWith(current));
  const positional = before.filter((w) => !w.startsWith('-'));
  const command = positional[0];
  const node = command ? TREE[command] : undefined;
  let flags = GLOBAL_FLAGS;
  let candidates: string[] = [];
  if (!command) {
    candidates = Object.keys(TREE);
  } else if (node?.sub) {
    const sub = positional[1];
    if (!sub) candidates = Object.keys(node.sub);
    else flags = [...GLOBAL_FLAGS, ...(node.sub[sub] ?? [])];
  } else if (node) {
    flags = [...GLOBAL_FLAGS, ...(node.flags ?? [])];
  }
  if (current.startsWith('-')) return flags.filter((f) => f.startsWith(current));
  return candidates.filter((c) => c.startsWith(current));
}

export function cobraAnswer(candidates: string[]): string {
  return `${candidates.join('\n')}${candidates.length ? '\n' : ''}:${NO_FILE_COMP}\n`;
}
