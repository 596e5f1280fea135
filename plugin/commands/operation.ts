// Declaration helper shared by rollout, restart, decommission and health (and plan with a target).
import type { Argv } from 'yargs';
import {
  UsageError,
  errorLine,
  buildTask,
  declareOperationOptions,
  parseTarget,
  type Operation,
  type Target,
  type Task,
} from '../../shared/task/index.js';
import { runOperation, type RunMode } from '../run-operation.js';
import type { CliContext, Connection } from '../io.js';
import type { GlobalOptions } from '../options.js';
import { globals, str, type Args, type CommandEnv } from './common.js';
import { declined } from '../confirm.js';

export interface OperationDeclaration {
  operation: Operation;
  command: string;
  describe: string;
  positional: string;
  positionalDescribe: string;
  bareKind: Target['kind'];
  allowed?: Target['kind'][];
  examples: Array<[string, string]>;
  /** Ask before touching the cluster (unless --yes, --dry-run or not on a TTY). */
  confirm?: (target: Target, namespace: string) => string;
  /** The result is a table (health): --no-headers, -o wide, -o name. */
  table?: boolean;
  /** More flags of this command only (e.g. rollout's --temporal). */
  options?: (b: Argv) => Argv;
  /** Run the Task another way when its flags ask for it (e.g. rollout --temporal); null: the Job / --local path. */
  runInstead?: (ctx: CliContext, g: GlobalOptions, task: Task, args: Args) => Promise<number> | null;
  /** A read-only command (health): runs here by default; `--job` runs it in a Job deleted after its result. */
  readOnly?: boolean;
}

/** `--job` of the read-only commands (plan, health). */
function declareJobOption<T>(y: Argv<T>) {
  return y.option('job', {
    type: 'boolean',
    describe: 'Run in a runner Job in the cluster (deleted as soon as its result is read) instead of here',
  });
}

/** The run mode of a read-only command: --job, refused together with --local. */
export function readOnlyMode(a: Args, local: boolean): RunMode {
  const job = a.job === true;
  if (job && local)
    throw new UsageError(
      '--job and --local contradict each other',
      'Pass one of them (without either, the command runs here)',
    );
  return { job };
}

export function declareOperation(d: OperationDeclaration) {
  return (y: Argv, env: CommandEnv): Argv =>
    y.command(
      d.command,
      d.describe,
      (b) => {
        let out: Argv = declareOperationOptions(
          b.positional(d.positional, { type: 'string', describe: d.positionalDescribe }),
          d.operation,
        ) as unknown as Argv;
        if (d.readOnly) out = declareJobOption(out as never) as unknown as Argv;
        if (d.table)
          out = out.option('no-headers', { type: 'boolean', describe: 'Print the tables without their header rows' });
        if (d.options) out = d.options(out);
        for (const [cmd, text] of d.examples) out = out.example(cmd, text);
        return out;
      },
      (argv) => {
        const a = argv as unknown as Args;
        env.select(async () => {
          const g = globals(a, env);
          const mode = d.readOnly ? readOnlyMode(a, g.local) : {};
          const target = parseTarget(str(a[d.positional]), d.bareKind, d.allowed);
          const task = buildTask({
            operation: d.operation,
            namespace: g.namespace ?? 'default',
            target,
            dryRun: g.dryRun,
            raw: a,
          });
          let conn: Connection | undefined;
          if (d.confirm && !g.yes && !g.dryRun && (env.ctx.canConfirm?.() ?? true)) {
            // The prompt names what the run will touch (docs/cli.md "Confirmation"): the kubeconfig is loaded (offline)
            // for the context, cluster and namespace, and a rollout's pods are listed in order from the read-only
            // analysis `plan` makes. Nothing has changed yet; the connection is reused by the run.
            conn = await env.ctx.connect(g.connect);
            const resolved: Task = { ...task, namespace: g.namespace ?? conn.namespace };
            const { confirmFacts, describeFacts } = await import('../confirm-facts.js');
            const facts = await confirmFacts(env.ctx, conn, resolved);
            if ('stop' in facts) {
              env.ctx.stderr.write(`${errorLine(new Error(facts.stop.error))}\n`);
              return facts.stop.exitCode;
            }
            const ok = await env.ctx.confirm(`${describeFacts(facts)}\n${d.confirm(target, resolved.namespace)}`);
            if (!ok) return declined(env.ctx.stderr);
          }
          return d.runInstead?.(env.ctx, g, task, a) ?? runOperation(env.ctx, g, task, mode, conn);
        });
      },
    );
}
