// `schedule create|update|delete|list`: scheduled rollouts as a CronJob.
import type { Argv } from 'yargs';
import { printActions, printValue, table } from '../printers.js';
import { age } from '../output.js';
import { resolveTarget } from '../job-mode.js';
import {
  buildScheduleCronJob,
  createSchedule,
  cronJobNameFor,
  deleteSchedule,
  listSchedules,
  updateSchedule,
  validateCronSchedule,
  type ScheduleRow,
} from '../schedule.js';
import { buildTask, declareOperationOptions, parseTarget } from '../task.js';
import { UsageError } from '../exit.js';
import { globals, str, type Args, type CommandEnv } from './common.js';
import { monitoringHint } from '../monitoring-hint.js';

const TARGET = 'statefulset/<name>, sts/<name>, cratedb/<name> or a StatefulSet name';

function scheduleFlags(y: Argv): Argv {
  return declareOperationOptions(
    y
      .positional('target', { type: 'string', describe: TARGET })
      .option('schedule', { type: 'string', describe: 'Cron expression, e.g. "0 3 * * 0" (Sundays 03:00)' })
      .option('time-zone', { type: 'string', describe: 'IANA time zone of the schedule, e.g. Europe/Vienna' })
      .option('suspend', { type: 'boolean', describe: 'Create or update the schedule suspended' }),
    'rollout',
  );
}

export function declareSchedule(y: Argv, env: CommandEnv): Argv {
  const createOrUpdate = (mode: 'create' | 'update') => (argv: unknown) => {
    const a = argv as Args;
    env.select(async () => {
      const g = globals(a, env);
      const target = parseTarget(str(a.target), 'statefulset', ['statefulset', 'cratedb']);
      if (a.schedule === undefined) throw new UsageError(`schedule ${mode} needs --schedule`, 'Add e.g. --schedule "0 3 * * 0"');
      const schedule = validateCronSchedule(str(a.schedule));
      const timeZone = a['time-zone'] === undefined ? undefined : str(a['time-zone']);
      if (timeZone !== undefined && !/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(timeZone)) {
        throw new UsageError(`invalid --time-zone "${timeZone}"`, 'Use an IANA name such as Europe/Vienna or UTC');
      }
      const task = buildTask({ operation: 'rollout', namespace: g.namespace ?? 'default', target, dryRun: false, raw: a });
      const conn = await env.ctx.connect(g.connect);
      const resolvedTask = { ...task, namespace: g.namespace ?? conn.namespace };
      const resolved = await resolveTarget(conn.kube, resolvedTask);
      const cron = buildScheduleCronJob(resolvedTask, resolved, {
        schedule,
        timeZone,
        suspend: a.suspend === true,
        image: g.image,
      });
      if (g.dryRun) {
        printValue(env.ctx.stdout, cron, g.output === 'json' || g.output === 'jsonpath' ? g.output : 'yaml', () => '', { jsonpath: g.jsonpath });
        return 0;
      }
      const line = mode === 'create' ? await createSchedule(conn.kube, cron) : await updateSchedule(conn.kube, cron);
      if (g.output === 'text') env.ctx.stdout.write(`${line}\n`);
      else printActions(env, g, [line], [cron]);
      env.ctx.stderr.write(monitoringHint({ pushgateway: task.options.metrics?.pushgateway, schedule: true }));
      return 0;
    });
  };
  return y.command('schedule', 'Schedule rollouts of a cluster (CronJob)', (s) =>
    s
      .command('create <target>', 'Create a CronJob rolling the cluster on a schedule', scheduleFlags, createOrUpdate('create'))
      .command('update <target>', "Change a schedule's time, time zone, suspension or engine flags", scheduleFlags, createOrUpdate('update'))
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
            if (g.dryRun) {
              if (g.output === 'text') env.ctx.stdout.write(`would delete the schedule of ${target.name} in ${namespace}\n`);
              else printActions(env, g, [`cronjob.batch/${cronJobNameFor(target.name)} deleted (dry run)`], undefined, namespace);
              return 0;
            }
            const line = await deleteSchedule(conn.kube, namespace, target.name);
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
            const target = a.target === undefined ? undefined : parseTarget(str(a.target), 'statefulset', ['statefulset', 'cratedb']);
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
    rows.map((r) => [r.namespace, r.name, r.cluster, r.schedule, r.timeZone ?? '-', r.suspend ? 'True' : 'False', r.lastSchedule ? age(r.lastSchedule, now) : '-']),
    { noHeaders },
  );
}
