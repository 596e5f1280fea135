// `schedule create|update|delete|list`: scheduled rollouts as a CronJob.
import type { V1CronJob } from '@kubernetes/client-node';
import type { Argv } from 'yargs';
import type { GlobalOptions } from '../options.js';
import { printActions, printValue, table } from '../printers.js';
import { age } from '../output.js';
import { resolveTarget } from '../job-mode.js';
import { printObjects } from '../run-operation.js';
import {
  applyScheduleUpdate,
  buildScheduleCronJob,
  createSchedule,
  cronJobNameFor,
  deleteSchedule,
  getSchedule,
  listSchedules,
  mergeScheduleUpdate,
  validateCronSchedule,
  type ScheduleChanges,
  type ScheduleRow,
} from '../schedule.js';
import { buildTask, declareOperationOptions, parseTarget, UsageError } from '../../shared/task/index.js';
import { globals, str, type Args, type CommandEnv } from './common.js';
import { monitoringHint } from '../monitoring-hint.js';

const TARGET = 'statefulset/<name>, sts/<name>, cratedb/<name> or a StatefulSet name';

/**
 * Print what a CronJob write did: the line, and under --dry-run=server the object (on stdout, the line on stderr);
 * true when it was a server dry run.
 */
function printScheduleWrite(
  env: CommandEnv,
  g: GlobalOptions,
  dryRun: boolean,
  line: string,
  cron: V1CronJob,
): boolean {
  if (dryRun) {
    env.ctx.stderr.write(`${line}\n`);
    printObjects(env.ctx, g, cron);
    return true;
  }
  if (g.output === 'text') env.ctx.stdout.write(`${line}\n`);
  else printActions(env, g, [line], [cron]);
  return false;
}

function scheduleFlags(y: Argv): Argv {
  return declareOperationOptions(
    y
      .positional('target', { type: 'string', describe: TARGET })
      .option('schedule', { type: 'string', describe: 'Cron expression, e.g. "0 3 * * 0" (Sundays 03:00)' })
      .option('time-zone', {
        type: 'string',
        describe: 'IANA time zone of the schedule, e.g. Europe/Vienna (update: --time-zone= removes it)',
      })
      .option('suspend', { type: 'boolean', describe: 'Create or update the schedule suspended' })
      .option('no-suspend', { type: 'boolean', describe: 'Update: resume a suspended schedule' }),
    'rollout',
  );
}

/** The engine flags `schedule` declares (their defaults must not count as given on an update). */
const ENGINE_FLAGS: string[] = (() => {
  const keys: string[] = [];
  const recorder = {
    option(key: string, opts: { alias?: string | string[] } = {}) {
      keys.push(key, ...[opts.alias ?? []].flat());
      return recorder;
    },
  };
  declareOperationOptions(recorder as unknown as Argv, 'rollout');
  return keys.filter((k) => k !== 'operation-id');
})();

/** update: no defaults for the engine flags, so only the flags given on the command line are seen. */
function updateFlags(y: Argv): Argv {
  let out = scheduleFlags(y);
  for (const k of ENGINE_FLAGS) out = out.default(k, undefined);
  return out;
}

function timeZoneArg(v: unknown, mode: 'create' | 'update'): string | null | undefined {
  if (v === undefined) return undefined;
  const timeZone = str(v);
  if (timeZone === '' && mode === 'update') return null;
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(timeZone)) {
    throw new UsageError(`invalid --time-zone "${timeZone}"`, 'Use an IANA name such as Europe/Vienna or UTC');
  }
  return timeZone;
}

function suspendArg(a: Args): boolean | undefined {
  if (a.suspend === true && a['no-suspend'] === true)
    throw new UsageError('--suspend and --no-suspend contradict each other', 'Pass one of them');
  if (a.suspend === true) return true;
  if (a['no-suspend'] === true) return false;
  return undefined;
}

export function declareSchedule(y: Argv, env: CommandEnv): Argv {
  const create = (argv: unknown) => {
    const a = argv as Args;
    env.select(async () => {
      const g = globals(a, env);
      const target = parseTarget(str(a.target), 'statefulset', ['statefulset', 'cratedb']);
      if (a.schedule === undefined)
        throw new UsageError('schedule create needs --schedule', 'Add e.g. --schedule "0 3 * * 0"');
      const schedule = validateCronSchedule(str(a.schedule));
      const timeZone = timeZoneArg(a['time-zone'], 'create') ?? undefined;
      const suspend = suspendArg(a) ?? false;
      const task = buildTask({
        operation: 'rollout',
        namespace: g.namespace ?? 'default',
        target,
        dryRun: false,
        raw: a,
      });
      const conn = await env.ctx.connect(g.connect);
      const resolvedTask = { ...task, namespace: g.namespace ?? conn.namespace };
      const resolved = await resolveTarget(conn.kube, resolvedTask);
      const cron = buildScheduleCronJob(resolvedTask, resolved, { schedule, timeZone, suspend, image: g.image });
      if (g.dryRunMode === 'client') {
        printObjects(env.ctx, g, cron);
        return 0;
      }
      const write = { dryRun: g.dryRunMode === 'server' };
      const line = await createSchedule(conn.kube, cron, write);
      if (printScheduleWrite(env, g, write.dryRun, line, cron)) return 0;
      env.ctx.stderr.write(monitoringHint({ pushgateway: task.options.metrics?.pushgateway, schedule: true }));
      return 0;
    });
  };
  const update = (argv: unknown) => {
    const a = argv as Args;
    env.select(async () => {
      const g = globals(a, env);
      const target = parseTarget(str(a.target), 'statefulset', ['statefulset', 'cratedb']);
      const changes: ScheduleChanges = { engine: {} };
      if (a.schedule !== undefined) changes.schedule = validateCronSchedule(str(a.schedule));
      const timeZone = timeZoneArg(a['time-zone'], 'update');
      if (timeZone !== undefined) changes.timeZone = timeZone;
      const suspend = suspendArg(a);
      if (suspend !== undefined) changes.suspend = suspend;
      // Only an explicit --image: CRATE_DECOMMISSION_IMAGE is a default for new objects, not a change.
      if (a.image !== undefined && g.image !== undefined) changes.image = g.image;
      const engine: Record<string, unknown> = {};
      for (const k of ENGINE_FLAGS) if (a[k] !== undefined) engine[k] = a[k];
      changes.engine = engine;
      const given =
        changes.schedule !== undefined ||
        changes.timeZone !== undefined ||
        changes.suspend !== undefined ||
        changes.image !== undefined ||
        Object.keys(engine).length > 0;
      if (!given) {
        throw new UsageError(
          'schedule update needs a change',
          'Give --schedule, --time-zone, --suspend or --no-suspend, --image or an engine flag; what is not given stays as it is',
        );
      }
      // Validate the engine flags before touching the cluster (bad input is exit 2 with nothing read).
      buildTask({ operation: 'rollout', namespace: g.namespace ?? 'default', target, dryRun: false, raw: engine });
      const conn = await env.ctx.connect(g.connect);
      const namespace = g.namespace ?? conn.namespace;
      const resolved = await resolveTarget(
        conn.kube,
        buildTask({ operation: 'rollout', namespace, target, dryRun: false, raw: {} }),
      );
      const current = await getSchedule(conn.kube, namespace, resolved.cluster);
      const { parseRunnerArgs } = await import('../../shared/task/index.js');
      const next = mergeScheduleUpdate(current, changes, parseRunnerArgs, resolved);
      if (g.dryRunMode === 'client') {
        printObjects(env.ctx, g, next);
        return 0;
      }
      const write = { dryRun: g.dryRunMode === 'server' };
      const line = await applyScheduleUpdate(conn.kube, current, next, write);
      if (printScheduleWrite(env, g, write.dryRun, line, next)) return 0;
      return 0;
    });
  };
  return y.command('schedule', 'Schedule rollouts of a cluster (CronJob)', (s) =>
    s
      .command('create <target>', 'Create a CronJob rolling the cluster on a schedule', scheduleFlags, create)
      .command(
        'update <target>',
        "Change a schedule's time, time zone, suspension, image or engine flags (only what is given)",
        updateFlags,
        update,
      )
      .command(
        'delete <target>',
        'Delete the schedule of a cluster',
        (b) => b.positional('target', { type: 'string', describe: TARGET }),
        (argv) => {
          const a = argv as unknown as Args;
          env.select(async () => {
            const g = globals(a, env);
            const target = parseTarget(str(a.target), 'statefulset', ['statefulset', 'cratedb']);
            const conn = await env.ctx.connect(g.connect);
            const namespace = g.namespace ?? conn.namespace;
            if (g.dryRunMode === 'client') {
              if (g.output === 'text')
                env.ctx.stdout.write(`would delete the schedule of ${target.name} in ${namespace}\n`);
              else
                printActions(
                  env,
                  g,
                  [`cronjob.batch/${cronJobNameFor(target.name)} deleted (dry run)`],
                  undefined,
                  namespace,
                );
              return 0;
            }
            const line = await deleteSchedule(conn.kube, namespace, target.name, { dryRun: g.dryRunMode === 'server' });
            if (g.output === 'text') env.ctx.stdout.write(`${line}\n`);
            else printActions(env, g, [line], undefined, namespace);
            return 0;
          });
        },
      )
      .command(
        'list [target]',
        'List schedules (of one cluster, or all in the namespace; -A for every namespace)',
        (b) =>
          b
            .positional('target', { type: 'string', describe: TARGET })
            .option('all-namespaces', { alias: 'A', type: 'boolean', describe: 'List in every namespace' })
            .option('no-headers', { type: 'boolean', describe: 'Print the table without its header row' }),
        (argv) => {
          const a = argv as unknown as Args;
          env.select(async () => {
            const g = globals(a, env);
            const target =
              a.target === undefined
                ? undefined
                : parseTarget(str(a.target), 'statefulset', ['statefulset', 'cratedb']);
            const conn = await env.ctx.connect(g.connect);
            const ns = a['all-namespaces'] === true ? undefined : (g.namespace ?? conn.namespace);
            const rows = await listSchedules(conn.kube, ns, target?.name);
            const now = env.ctx.now();
            printValue(env.ctx.stdout, rows, g.output, (v) => scheduleTable(v as ScheduleRow[], now, g.noHeaders), {
              jsonpath: g.jsonpath,
              names: (v) => (v as ScheduleRow[]).map((r) => `cronjob.batch/${r.name}`),
            });
            return 0;
          });
        },
      )
      .demandCommand(1, 'schedule needs a subcommand: create, update, delete or list'),
  );
}

function scheduleTable(rows: ScheduleRow[], now: Date, noHeaders: boolean): string {
  if (rows.length === 0) return noHeaders ? '' : 'No schedules found.';
  return table(
    ['NAMESPACE', 'NAME', 'CLUSTER', 'SCHEDULE', 'TIMEZONE', 'SUSPEND', 'LAST SCHEDULE'],
    rows.map((r) => [
      r.namespace,
      r.name,
      r.cluster,
      r.schedule,
      r.timeZone ?? '-',
      r.suspend ? 'True' : 'False',
      r.lastSchedule ? age(r.lastSchedule, now) : '-',
    ]),
    { noHeaders },
  );
}
