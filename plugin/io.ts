// What the plugin's commands get from the outside world: writers, environment, cluster factory, engine, files.
import type { KubeConnectOptions } from './options.js';
import type { PluginKube } from '../shared/adapters/index.js';
import type { EngineApi, ApiServerTarget, InterruptPolicy, SignalName } from '../shared/task/index.js';
import type { EngineDeps } from '../shared/index.js';

export interface Writer {
  write(text: string): void;
  /** A terminal? Decides colours (--color auto) and listr2 progress. */
  readonly isTTY?: boolean;
}

/** A connection to a cluster, made only after local validation passed. */
export interface Connection {
  /** Namespace from -n, else the kubeconfig context's, else "default". */
  namespace: string;
  kube: PluginKube;
  /** Engine dependencies for --local (in-process engine through the API server). */
  engineDeps(log: EngineDeps['log'], signal: AbortSignal, opts?: { readOnly?: boolean }): Promise<EngineDeps>;
  /** Identity of the user, for the Lease holder in --local mode. */
  identity: string;
  /** The API server and the kubeconfig names in use (for "cannot reach" messages). */
  target?: ApiServerTarget;
}

export interface CliContext {
  stdout: Writer;
  stderr: Writer;
  env: Record<string, string | undefined>;
  /** Connect to the cluster. Tests inject one that throws: bad input must never reach it. */
  connect(opts: KubeConnectOptions): Promise<Connection>;
  loadEngine(): Promise<EngineApi>;
  readFile(path: string): Promise<string>;
  /** A directory's entries (`plan -f DIR`); throws like fs.readdir. */
  listDir(path: string): Promise<Array<{ name: string; directory: boolean }>>;
  /** Aborted on Ctrl-C / SIGTERM: long commands detach or stop safely. */
  signal: AbortSignal;
  /**
   * What a Ctrl-C/SIGTERM means while a command runs (shared/task/interrupt.ts): how long it may take to stop before the
   * process exits anyway, and what to print then. Returns a function restoring the previous policy. Absent in tests.
   */
  interruptPolicy?(policy: InterruptPolicy): () => void;
  /** The message printed if the process must exit before the command stopped (e.g. how to re-attach to the Job). */
  onForcedExit?(message: (signal: SignalName) => string): void;
  /** Random suffix for Job names (injected for tests). */
  randomSuffix(): string;
  now(): Date;
  /** The context, cluster and user names of the kubeconfig (completion of --context, --cluster, --user). */
  kubeconfigNames?(opts: { kubeconfig?: string }): Promise<{ contexts: string[]; clusters: string[]; users: string[] }>;
  /** Ask a yes/no question on the terminal whenever stdin is one (plugin/confirm.ts); true without asking otherwise. */
  confirm(question: string): Promise<boolean>;
  /**
   * Would confirm() ask (stdin a terminal)? Decides whether the read-only analysis for the prompt runs at all.
   * Absent: it would (tests that answer the prompt).
   */
  canConfirm?(): boolean;
}

export type ColorMode = 'auto' | 'always' | 'never';

/** --color auto: only on a TTY; NO_COLOR (any non-empty value) turns auto off. */
export function useColor(mode: ColorMode, out: Writer, env: Record<string, string | undefined>): boolean {
  if (mode === 'always') return true;
  if (mode === 'never') return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return out.isTTY === true;
}

export interface Colors {
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

export function colors(enabled: boolean): Colors {
  const wrap = (open: number, close: number) => (s: string) => (enabled ? `\u001b[${open}m${s}\u001b[${close}m` : s);
  return {
    red: wrap(31, 39),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    dim: wrap(2, 22),
    bold: wrap(1, 22),
  };
}
