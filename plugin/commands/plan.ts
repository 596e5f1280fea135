// `plan <target>` (live, read-only: discovery, strategy per pod, order, timeouts, pre-flight) and
// `plan -f FILE` (offline: strategy detection of every StatefulSet in a manifest).
import type { Argv } from 'yargs';
import { detectStrategy } from '../../shared/detect.js';
import { messageOf } from '../../shared/errors.js';
import { UsageError } from '../exit.js';
import { colors, useColor } from '../io.js';
import { planFromManifest, type PlanFileOutput } from '../plan-file.js';
import { formatDetection, printValue } from '../printers.js';
import { runOperation } from '../run-operation.js';
import { buildTask, declareOperationOptions, parseTarget } from '../task.js';
import { globals, str, type Args, type CommandEnv } from './common.js';
import { readOnlyMode } from './operation.js';

export function declarePlan(y: Argv, env: CommandEnv): Argv {
  return y.command(
    'plan [target]',
    'Show what a rollout would do (read-only); offline from a manifest with -f',
    (b) =>
      declareOperationOptions(
        b
          .positional('target', { type: 'string', describe: 'statefulset/<name>, sts/<name>, cratedb/<name>, pod/<name> or a StatefulSet name' })
          .option('filename', { alias: 'f', type: 'string', describe: 'Offline: a YAML/JSON manifest (multi-document) holding StatefulSets' })
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
          if (Array.isArray(file)) throw new UsageError('-f was given more than once', 'Pass one manifest to -f');
          if (a.target !== undefined) throw new UsageError('plan takes either a target or -f FILE, not both', 'Drop the target to plan a manifest offline');
          if (typeof file !== 'string' || file === '') throw new UsageError('-f needs a file name', 'Pass a YAML or JSON manifest to -f');
          let text: string;
          try {
            text = await env.ctx.readFile(file);
          } catch (err) {
            throw new UsageError(`cannot read file "${file}": ${fileProblem(err)}`, 'Pass a readable YAML or JSON file to -f');
          }
          const plan = planFileList(planFromManifest(text, file, detectStrategy));
          const c = colors(useColor(g.color, env.ctx.stdout, env.ctx.env));
          printValue(env.ctx.stdout, plan, g.output, (v) => (v as PlanFileList).items.map((s) => formatDetection(s as unknown as Record<string, unknown>, c)).join('\n'), {
            jsonpath: g.jsonpath,
            names: (v) => (v as PlanFileList).items.map((s) => `statefulset.apps/${s.name}`),
          });
          return 0;
        }
        if (a.target === undefined) throw new UsageError('plan needs a target or -f FILE', 'Run kubectl crate-decommission plan sts/<name> or plan -f <manifest>');
        const mode = readOnlyMode(a, g.local);
        const target = parseTarget(str(a.target), 'statefulset');
        const task = buildTask({ operation: 'plan', namespace: g.namespace ?? 'default', target, dryRun: true, raw: a });
        return runOperation(env.ctx, g, task, mode);
      });
    },
  );
}

/**
 * What `plan -f -o json|yaml` prints: ALWAYS a kubectl-style `List`, one item per StatefulSet, whatever their
 * number (`jq '.items[0].strategy'`); the file it came from in `metadata.source`.
 */
export interface PlanFileList {
  apiVersion: 'v1';
  kind: 'List';
  metadata: { source: string };
  items: Array<{ kind: 'StatefulSetPlan' } & PlanFileOutput['statefulSets'][number]>;
}

export function planFileList(plan: PlanFileOutput): PlanFileList {
  return { apiVersion: 'v1', kind: 'List', metadata: { source: plan.source }, items: plan.statefulSets.map((s) => ({ kind: 'StatefulSetPlan', ...s })) };
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
