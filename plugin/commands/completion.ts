// `completion`: shell completion the kubectl way. kubectl (>= 1.26) completes plugin arguments by running an
// executable `kubectl_complete-crate_decommission` on the PATH; `completion` prints that executable, and the
// hidden `__complete` answers it in kubectl's (cobra's) protocol: one candidate a line, then `:<directive>`.
// Commands and flags are static; resource names (pods, StatefulSets, CrateDBs, runner Jobs of the namespace) come
// from the API server, under a short timeout, and silently nothing when that fails.
import type { Argv } from 'yargs';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { CliContext } from '../io.js';
import type { KubeConnectOptions } from '../options.js';
import type { CommandEnv } from './common.js';
import { KIND_ALIASES, UsageError } from '../../shared/task/index.js';

export const COMPLETION_SCRIPT = `#!/usr/bin/env sh
# kubectl calls this to complete "kubectl crate-decommission ..." (kubectl >= 1.26).
exec kubectl-crate_decommission __complete "$@"
`;

/** cobra's ShellCompDirectiveNoFileComp. */
const NO_FILE_COMP = 4;

/** Shell scripts for `kubectl-crate_decommission` called directly (cobra's protocol through `__complete`). */
export const SHELL_SCRIPTS: Record<'bash' | 'zsh' | 'fish' | 'powershell', string> = {
  bash: `# bash completion for kubectl-crate_decommission.  source <(kubectl-crate_decommission completion bash)
_kubectl_crate_decommission() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" out directive line ext
  out="$(kubectl-crate_decommission __complete "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)" || return
  directive="\${out##*:}"
  out="\${out%:*}"
  COMPREPLY=()
  if (( directive & 8 )); then
    compopt -o filenames 2>/dev/null
    while IFS= read -r line; do
      [[ -d "$line" || -z "$line" ]] && continue
      for ext in $out; do [[ "$line" == *."$ext" ]] && COMPREPLY+=("$line"); done
    done < <(compgen -f -- "$cur")
    while IFS= read -r line; do [[ -n "$line" ]] && COMPREPLY+=("$line"); done < <(compgen -d -- "$cur")
    return
  fi
  while IFS= read -r line; do [[ -n "$line" ]] && COMPREPLY+=("$line"); done < <(compgen -W "$out" -- "$cur")
  (( directive & 2 )) && compopt -o nospace 2>/dev/null
  return 0
}
complete -F _kubectl_crate_decommission kubectl-crate_decommission
`,
  zsh: `#compdef kubectl-crate_decommission
# zsh completion for kubectl-crate_decommission.  source <(kubectl-crate_decommission completion zsh)
_kubectl_crate_decommission() {
  local out directive
  local -a lines
  out="$(kubectl-crate_decommission __complete "\${words[@]:1:$((CURRENT-1))}" 2>/dev/null)" || return
  lines=("\${(@f)out}")
  directive="\${lines[-1]#:}"
  lines=("\${(@)lines[1,-2]}")
  if (( directive & 8 )); then
    _files -g "*.(\${(j:|:)lines})"
  elif (( directive & 2 )); then
    compadd -S '' -- "\${lines[@]}"
  else
    compadd -- "\${lines[@]}"
  fi
}
compdef _kubectl_crate_decommission kubectl-crate_decommission
`,
  fish: `# fish completion for kubectl-crate_decommission.  kubectl-crate_decommission completion fish | source
function __kubectl_crate_decommission_complete
    set -l args (commandline -opc)[2..-1] (commandline -ct)
    set -l out (kubectl-crate_decommission __complete $args 2>/dev/null)
    set -l directive (string replace -- ':' '' $out[-1])
    set -e out[-1]
    if test (math "bitand($directive, 8)") -ne 0
        # FilterFileExt: the files with one of the extensions given, and the directories (to descend into).
        for f in (commandline -ct)*
            if test -d $f
                printf '%s/\\n' $f
            else
                for ext in $out
                    string match -q -- "*.$ext" $f; and printf '%s\\n' $f
                end
            end
        end
        return
    end
    printf '%s\n' $out
end
complete -c kubectl-crate_decommission -f -a '(__kubectl_crate_decommission_complete)'
`,
  powershell: `# PowerShell completion for kubectl-crate_decommission.
#   kubectl-crate_decommission completion powershell | Out-String | Invoke-Expression
Register-ArgumentCompleter -Native -CommandName 'kubectl-crate_decommission' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)
    $words = @($commandAst.CommandElements | Select-Object -Skip 1 | ForEach-Object { $_.ToString() })
    if ($wordToComplete -eq '') { $words += '' }
    $out = @(& kubectl-crate_decommission __complete @words 2>$null)
    if ($out.Length -lt 2) { return }
    $out[0..($out.Length - 2)] | Where-Object { $_ -like "$wordToComplete*" } | ForEach-Object {
        [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_)
    }
}
`,
};

export function declareCompletion(y: Argv, env: CommandEnv): Argv {
  return y.command(
    'completion [shell]',
    'Print a completion script: the kubectl helper (default), or bash|zsh|fish|powershell for kubectl-crate_decommission',
    (b) =>
      b
        .positional('shell', {
          type: 'string',
          describe: 'kubectl (default): the helper kubectl >= 1.26 runs; bash|zsh|fish|powershell',
        })
        .example(
          '$0 completion > kubectl_complete-crate_decommission',
          'The kubectl helper: chmod +x it and put it on PATH',
        )
        .example('source <(kubectl-crate_decommission completion bash)', 'Completion of the executable itself in bash'),
    (argv) =>
      env.select(async () => {
        const shell = (argv as { shell?: unknown }).shell;
        if (shell === undefined || shell === 'kubectl') {
          env.ctx.stdout.write(COMPLETION_SCRIPT);
          return 0;
        }
        if (typeof shell === 'string' && shell in SHELL_SCRIPTS) {
          env.ctx.stdout.write(SHELL_SCRIPTS[shell as keyof typeof SHELL_SCRIPTS]);
          return 0;
        }
        throw new UsageError(
          `unknown shell "${String(shell)}"`,
          'Use kubectl (default), bash, zsh, fish or powershell',
        );
      }),
  );
}

const GLOBAL_FLAGS = [
  '--kubeconfig',
  '--context',
  '--cluster',
  '--user',
  '--namespace',
  '--as',
  '--as-group',
  '--request-timeout',
  '--insecure-skip-tls-verify',
  '--output',
  '--dry-run',
  '--yes',
  '--color',
  '--v',
  '--local',
  '--image',
  '--help',
];
const SQL_FLAGS = [
  '--sql-transport',
  '--sql-user',
  '--sql-password-secret',
  '--sql-scheme',
  '--sql-ca-secret',
  '--sql-insecure',
];
const ENGINE_FLAGS = [
  '--decommission-timeout',
  '--relocation',
  '--min-availability',
  '--allocation',
  '--pod-ready-timeout',
  '--health-timeout',
  ...SQL_FLAGS,
];

/** The command tree: subcommands and the flags each command adds to the global ones. */
const TREE: Record<string, { sub?: Record<string, string[]>; flags?: string[] }> = {
  rollout: { flags: ENGINE_FLAGS },
  restart: { flags: [...ENGINE_FLAGS, '--skip-preflight'] },
  decommission: {
    flags: [
      '--decommission-timeout',
      '--relocation',
      '--min-availability',
      '--allocation',
      '--health-timeout',
      ...SQL_FLAGS,
      '--skip-preflight',
    ],
  },
  plan: { flags: ['--filename', '--no-headers', ...ENGINE_FLAGS] },
  health: { flags: ['--health-timeout', '--no-headers', ...SQL_FLAGS] },
  schedule: {
    sub: {
      create: ['--schedule', '--time-zone', '--suspend', ...ENGINE_FLAGS],
      update: ['--schedule', '--time-zone', '--suspend', ...ENGINE_FLAGS],
      delete: [],
      list: ['--all-namespaces', '--no-headers'],
    },
  },
  rbac: {
    sub: { install: ['--cluster-wide', '--service-account'], uninstall: ['--cluster-wide', '--service-account'] },
  },
  jobs: { sub: { list: ['--all-namespaces', '--no-headers'], attach: [], cancel: ['--grace-period'] } },
  version: {},
  completion: { sub: { kubectl: [], bash: [], zsh: [], fish: [], powershell: [] } },
};

const VALUES: Record<string, string[]> = {
  '--output': ['text', 'json', 'yaml', 'wide', 'name', 'jsonpath='],
  '-o': ['text', 'json', 'yaml', 'wide', 'name', 'jsonpath='],
  '--color': ['auto', 'always', 'never'],
  '--min-availability': ['NONE', 'PRIMARIES', 'FULL'],
  '--relocation': ['auto', 'primaries', 'full'],
  '--allocation': ['primaries', 'new_primaries'],
  '--sql-transport': ['auto', 'http', 'exec'],
  '--sql-scheme': ['http', 'https'],
};

/** Candidates for the words typed so far (the last one is being completed, possibly ''). Static: no cluster calls. */
function completeWords(words: string[]): string[] {
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

// ---------------------------------------------------------------------------------------------------------------
// Resource names

/** cobra's ShellCompDirectiveNoSpace: the shell adds no space after the candidate (a `sts/` prefix goes on). */
const NO_SPACE = 2;
/** cobra's ShellCompDirectiveFilterFileExt: the candidates are file extensions; the shell completes such files. */
const FILTER_FILE_EXT = 8;

/** Flags whose value names something in the kubeconfig (context, cluster, user) or the cluster (namespace). */
const FLAG_VALUE_KINDS: Record<string, ResourceKind> = {
  '-n': 'namespace',
  '--namespace': 'namespace',
  '--context': 'context',
  '--cluster': 'cluster',
  '--user': 'user',
};

export type ResourceKind = 'pod' | 'statefulset' | 'cratedb' | 'job' | 'namespace' | 'context' | 'cluster' | 'user';

/** Names of `kind` in `namespace` (undefined: the kubeconfig context's namespace). May throw or hang: it is bounded. */
export type ResourceLister = (kind: ResourceKind, namespace: string | undefined) => Promise<string[]>;

/** What the word being completed names: a resource of `kind`, written as `prefix` + name. */
interface ResourceQuery {
  kind: ResourceKind;
  /** `sts/`, `pod/`, ... as typed, or '' for a bare name. */
  prefix: string;
  namespace: string | undefined;
  /** Kind prefixes offered besides bare names (cluster targets: `sts/`, `cratedb/`, `pod/`). */
  prefixes: string[];
}

/** Flags that take the next word as their value (so that word is not a positional). */
const VALUE_FLAGS = new Set([
  '--kubeconfig',
  '--context',
  '--cluster',
  '--user',
  '--namespace',
  '-n',
  '--as',
  '--as-group',
  '--request-timeout',
  '--output',
  '-o',
  '--color',
  '--image',
  '--timeout',
  '--decommission-timeout',
  '--v',
  '--min-availability',
  '--relocation',
  '--allocation',
  '--pod-ready-timeout',
  '--health-timeout',
  '--schedule',
  '--time-zone',
  '--service-account',
  '--grace-period',
  '--filename',
  '-f',
  '--sql-transport',
  '--sql-user',
  '--sql-password-secret',
  '--sql-scheme',
  '--sql-ca-secret',
  '--operation-id',
]);

const KIND_PREFIXES: Record<string, ResourceKind> = KIND_ALIASES;

/** The words before the current one, split into positionals and flag values (`--flag v` and `--flag=v`). */
function scanWords(before: string[]): { positional: string[]; flags: Map<string, string> } {
  const positional: string[] = [];
  const flags = new Map<string, string>();
  for (let i = 0; i < before.length; i++) {
    const w = before[i]!;
    if (w.startsWith('-') && w !== '-') {
      const eq = w.indexOf('=');
      if (eq > 0) flags.set(w.slice(0, eq), w.slice(eq + 1));
      else if (VALUE_FLAGS.has(w) && i + 1 < before.length) flags.set(w, before[++i]!);
      else flags.set(w, 'true');
    } else {
      positional.push(w);
    }
  }
  return { positional, flags };
}

/** Is the current word a resource name, and of what kind? null for anything else. */
export function resourceQueryFor(words: string[]): ResourceQuery | null {
  const typed = words.length > 0 ? words : [''];
  const current = typed[typed.length - 1] ?? '';
  const before = typed.slice(0, -1);
  if (current.startsWith('-')) return null;
  const previous = before[before.length - 1];
  if (previous && VALUE_FLAGS.has(previous)) return null;
  const { positional, flags } = scanWords(before);
  const namespace = flags.get('--namespace') ?? flags.get('-n');
  const [command, second] = positional;
  let slot: 'cluster' | 'pod' | 'job' | null = null;
  if ((command === 'rollout' || command === 'plan' || command === 'health') && positional.length === 1)
    slot = 'cluster';
  if ((command === 'restart' || command === 'decommission') && positional.length === 1) slot = 'pod';
  if (
    command === 'schedule' &&
    (second === 'create' || second === 'update' || second === 'delete') &&
    positional.length === 2
  )
    slot = 'cluster';
  if (command === 'jobs' && (second === 'attach' || second === 'cancel') && positional.length === 2) slot = 'job';
  if (slot === null) return null;
  if (slot === 'job') return { kind: 'job', prefix: '', namespace, prefixes: [] };
  const slash = current.indexOf('/');
  if (slash >= 0) {
    const kind = KIND_PREFIXES[current.slice(0, slash).toLowerCase()];
    if (!kind || (slot === 'pod' && kind !== 'pod')) return null;
    return { kind, prefix: current.slice(0, slash + 1), namespace, prefixes: [] };
  }
  if (slot === 'pod') return { kind: 'pod', prefix: '', namespace, prefixes: [] };
  return { kind: 'statefulset', prefix: '', namespace, prefixes: ['sts/', 'cratedb/', 'pod/'] };
}

/** The kubeconfig flags among the words, for connecting the way the command itself would. Never throws. */
export function connectOptionsFromWords(words: string[]): KubeConnectOptions {
  const { flags } = scanWords(words.slice(0, -1));
  const opts: KubeConnectOptions = {};
  const kubeconfig = flags.get('--kubeconfig');
  if (kubeconfig) opts.kubeconfig = kubeconfig;
  const context = flags.get('--context');
  if (context) opts.context = context;
  const cluster = flags.get('--cluster');
  if (cluster) opts.cluster = cluster;
  const user = flags.get('--user');
  if (user) opts.user = user;
  const as = flags.get('--as');
  if (as) opts.as = as;
  const namespace = flags.get('--namespace') ?? flags.get('-n');
  if (namespace) opts.namespace = namespace;
  if (flags.get('--insecure-skip-tls-verify') === 'true') opts.insecureSkipTlsVerify = true;
  return opts;
}

/** How long resource completion may take before it gives up (silently: the shell just offers less). */
const COMPLETION_TIMEOUT_MS = 2000;

/** Resolve to `fallback` when `p` rejects or does not settle within `ms`. */
async function bounded<T>(p: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
    timer.unref?.();
  });
  try {
    return await Promise.race([p.catch(() => fallback), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Candidates and cobra directive for the words typed so far: static commands/flags, resource names through `lister`. */
export async function completeCommandLine(
  words: string[],
  lister: ResourceLister | null,
  opts: { timeoutMs?: number } = {},
): Promise<{ candidates: string[]; directive: number }> {
  const previous = words.length >= 2 ? words[words.length - 2] : undefined;
  // -f FILE: manifests (kubectl's own -f completes .json, .yaml and .yml files, and folders).
  if (previous === '-f' || previous === '--filename')
    return { candidates: ['json', 'yaml', 'yml'], directive: FILTER_FILE_EXT };
  const flagValue = previous ? FLAG_VALUE_KINDS[previous] : undefined;
  if (flagValue && lister) {
    const current = words[words.length - 1] ?? '';
    const { flags } = scanWords(words.slice(0, -1));
    const namespace = flags.get('--namespace') ?? flags.get('-n');
    const names = await bounded(
      Promise.resolve().then(() => lister(flagValue, namespace)),
      opts.timeoutMs ?? COMPLETION_TIMEOUT_MS,
      [] as string[],
    );
    return { candidates: [...new Set(names)].sort().filter((n) => n.startsWith(current)), directive: NO_FILE_COMP };
  }
  const query = lister ? resourceQueryFor(words) : null;
  if (!query || !lister) return { candidates: completeWords(words), directive: NO_FILE_COMP };
  const current = words[words.length - 1] ?? '';
  const listed = Promise.resolve().then(() => lister(query.kind, query.namespace));
  const names = await bounded(listed, opts.timeoutMs ?? COMPLETION_TIMEOUT_MS, [] as string[]);
  const candidates = [...new Set(names.map((n) => `${query.prefix}${n}`))].sort().filter((c) => c.startsWith(current));
  const prefixes = query.prefixes.filter((p) => p.startsWith(current) && current.length > 0);
  // A kind prefix (`sts/`) is only half a word: no space after it.
  if (prefixes.length > 0 && candidates.length === 0)
    return { candidates: prefixes, directive: NO_FILE_COMP | NO_SPACE };
  return { candidates, directive: NO_FILE_COMP };
}

export function cobraAnswerWith(candidates: string[], directive: number): string {
  return `${candidates.join('\n')}${candidates.length ? '\n' : ''}:${directive}\n`;
}

/** Names from the API server through the plugin's own connection (same kubeconfig flags as the command line). */
export function kubeResourceLister(
  ctx: Pick<CliContext, 'connect' | 'kubeconfigNames'>,
  connect: KubeConnectOptions,
): ResourceLister {
  return async (kind, namespace) => {
    if (kind === 'context' || kind === 'cluster' || kind === 'user') {
      // From the kubeconfig files alone (--kubeconfig, else $KUBECONFIG, else ~/.kube/config): no request.
      const known = await ctx.kubeconfigNames?.(
        connect.kubeconfig === undefined ? {} : { kubeconfig: connect.kubeconfig },
      );
      if (!known) return [];
      return kind === 'context' ? known.contexts : kind === 'cluster' ? known.clusters : known.users;
    }
    // A bounded request: completion must never hang the shell.
    const conn = await ctx.connect({ requestTimeout: '2s', ...connect });
    const ns = namespace ?? conn.namespace;
    const names = (items: KubernetesObject[]) => items.map((o) => o.metadata?.name ?? '').filter((n) => n !== '');
    switch (kind) {
      case 'pod': {
        // Only StatefulSet pods can be restarted or decommissioned.
        const pods = await conn.kube.list('v1', 'Pod', ns);
        return names(pods.filter((p) => p.metadata?.ownerReferences?.some((o) => o.kind === 'StatefulSet')));
      }
      case 'statefulset':
        return names(await conn.kube.list('apps/v1', 'StatefulSet', ns));
      case 'cratedb':
        return names(await conn.kube.list('cloud.crate.io/v1', 'CrateDB', ns));
      case 'job':
        return names(await conn.kube.list('batch/v1', 'Job', ns, 'app.kubernetes.io/name=crate-decommission'));
      case 'namespace':
        return names(await conn.kube.list('v1', 'Namespace', undefined));
      default:
        return [];
    }
  };
}
