// `plan <target>` (live, read-only: discovery, strategy per pod, order, timeouts, pre-flight) and
// `plan -f FILE` (offline: strategy detection of every StatefulSet in a manifest).
import type { Argv } from 'yargs';
import { detectStrategy } from '../../shared/detect/index.js';
import {
  messageOf,
  UsageError,
  DEFAULT_TASK_OPTIONS,
  buildTask,
  declareOperationOptions,
  parseTarget,
  parseTaskOptions,
} from '../../shared/task/index.js';
import { colors, useColor } from '../io.js';
import { planFromManifests, readManifests, type PlanFileOutput } from '../plan-file.js';
import { formatDetection, printValue } from '../printers.js';
import type { Colors } from '../io.js';
import { runOperation } from '../run-operation.js';
import { globals, str, type Args, type CommandEnv } from './common.js';
import { readOnlyMode } from './operation.js';

export function declarePlan(y: Argv, env: CommandEnv): Argv {
  return y.command(
    'plan [target]',
    'Show what a rollout would do (read-only); offline from a manifest with -f',
    (b) =>
      declareOperationOptions(
        b
          .positional('target', {
            type: 'string',
            describe: 'statefulset/<name>, sts/<name>, cratedb/<name>, pod/<name> or a StatefulSet name',
          })
          .option('filename', {
            alias: 'f',
            type: 'string',
            describe:
              'Offline: YAML/JSON manifests (multi-document, kind: List): a file, a directory, or - for stdin (repeatable)',
          })
          .option('recursive', {
            alias: 'R',
            type: 'boolean',
            describe: 'With -f DIR: also the manifests in its subdirectories',
          })
          .option('no-headers', { type: 'boolean', describe: 'Print the tables without their header rows' })
          .option('job', {
            type: 'boolean',
            describe: 'Run in a runner Job in the cluster (deleted as soon as its result is read) instead of here',
          })
          .example('$0 plan sts/crate-data-hot-prod -n crate', 'Order, strategy, timeouts and pre-flight checks')
          .example('$0 plan -f statefulset.yaml -o json', 'Strategy detection of a manifest, no cluster needed'),
        'plan',
      ),
    (argv) => {
      const a = argv as unknown as Args;
      env.select(async () => {
        const g = globals(a, env);
        const file = a.filename;
        if (file !== undefined) {
          const files = (Array.isArray(file) ? file : [file]).map(String);
          if (a.target !== undefined)
            throw new UsageError(
              'plan takes either a target or -f FILE, not both',
              'Drop the target to plan a manifest offline',
            );
          if (files.some((f) => f === ''))
            throw new UsageError(
              '-f needs a file name',
              'Pass a YAML or JSON manifest (or a directory, or - for stdin) to -f',
            );
          if (g.local || a.job === true)
            throw new UsageError(
              'plan -f works offline; --local and --job are for a live plan',
              'Drop --local/--job, or plan the live target instead of -f',
            );
          // The engine flags and -n apply as a what-if; validated as for a live plan.
          const opts = parseTaskOptions(a, 'plan');
          const given = [
            ...(opts.decommissionTimeout !== DEFAULT_TASK_OPTIONS.decommissionTimeout
              ? ['the decommission timeout flag']
              : []),
            ...(opts.minAvailability !== DEFAULT_TASK_OPTIONS.minAvailability ? ['--min-availability'] : []),
          ];
          const inputs = await readManifests(files, a.recursive === true, env.ctx, fileProblem);
          const plan = planFromManifests(inputs, detectStrategy, {
            namespace: g.namespace,
            engine: opts,
            givenFlags: given,
          });
          const c = colors(useColor(g.color, env.ctx.stdout, env.ctx.env));
          printValue(env.ctx.stdout, plan, g.output, (v) => formatPlanFile(v as PlanFileOutput, c), {
            jsonpath: g.jsonpath,
            names: (v) => (v as PlanFileOutput).statefulSets.map((i) => `statefulset.apps/${i.name}`),
            document: (v) => planFileList(v as PlanFileOutput),
          });
          return 0;
        }
        if (a.target === undefined)
          throw new UsageError(
            'plan needs a target or -f FILE',
            'Run kubectl crate-decommission plan sts/<name> or plan -f <manifest>',
          );
        const mode = readOnlyMode(a, g.local);
        const target = parseTarget(str(a.target), 'statefulset');
        const task = buildTask({
          operation: 'plan',
          namespace: g.namespace ?? 'default',
          target,
          dryRun: true,
          raw: a,
        });
        return runOperation(env.ctx, g, task, mode);
      });
    },
  );
}

/**
 * What `plan -f -o json|yaml|jsonpath` prints: ALWAYS a kubectl-style `List`, one `StatefulSetPlan` item per
 * StatefulSet, whatever their number (`jq '.items[0].strategy'`); the input it came from in `metadata.source`,
 * what was left out in `metadata.skipped`. A live `plan` prints a `List` too (plugin/printers.ts planDocument).
 */
interface PlanFileList {
  apiVersion: 'v1';
  kind: 'List';
  metadata: { source: string; skipped?: PlanFileOutput['skipped'] };
  items: Array<{ kind: 'StatefulSetPlan' } & PlanFileOutput['statefulSets'][number]>;
}

function planFileList(plan: PlanFileOutput): PlanFileList {
  return {
    apiVersion: 'v1',
    kind: 'List',
    metadata: { source: plan.source, ...(plan.skipped && plan.skipped.length > 0 ? { skipped: plan.skipped } : {}) },
    items: plan.statefulSets.map((s) => ({ kind: 'StatefulSetPlan', ...s })),
  };
}

function fileProblem(err: unknown): string {
  switch ((err as { code?: unknown } | null)?.code) {
    case 'ENOENT':
      return 'it does not exist';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a directory';
    default:
      return messageOf(err);
  }
}

/** `plan -f` as text: each StatefulSet's detection, the namespace assumed, who decommissions, warnings, what was left out. */
function formatPlanFile(plan: PlanFileOutput, c: Colors): string {
  const out: string[] = [];
  for (const s of plan.statefulSets) {
    out.push(formatDetection(s as unknown as Record<string, unknown>, c));
    if (s.namespaceFrom === 'default') out.push(`  namespace default assumed (not in the manifest, no -n)`);
    const d = s.decommission;
    out.push(
      `  decommission by ${d.by === 'dc_util' ? 'dc_util (preStop hook)' : 'this tool (engine flags)'}: timeout ${d.timeoutSeconds}s, min availability ${d.minAvailability}`,
    );
    for (const w of s.warnings) out.push(c.yellow(`  warning: ${w}`));
  }
  for (const k of plan.skipped ?? []) out.push(c.yellow(`skipped ${k.kind} ${k.name} (${k.source}): ${k.reason}`));
  return out.join('\n');
}
