// `jobs list|attach <job>|cancel <job>`: the runner Jobs of this plugin.
import type { Argv } from 'yargs';
import { Dns1123Subdomain, UsageError } from '../../shared/task/index.js';
import { cancelJob, listJobs, type JobRow } from '../job-mode.js';
import { printActions, printValue, table } from '../printers.js';
import { age, humanDuration } from '../output.js';
import { attach } from '../run-operation.js';
import { globals, str, type Args, type CommandEnv } from './common.js';
import { declined } from '../confirm.js';

/** A Job name, also as job/<name> or job.batch/<name>. */
function parseJobArg(v: unknown): string {
  const name = str(v).replace(/^(jobs?|jobs?\.batch)\//, '');
  if (!Dns1123Subdomain.safeParse(name).success) {
    throw new UsageError(
      `invalid Job name "${name}": must be a lowercase DNS-1123 name`,
      'List the Jobs with kubectl crate-decommission jobs list',
    );
  }
  return name;
}

export function declareJobs(y: Argv, env: CommandEnv): Argv {
  return y.command('jobs', 'List, re-attach to or cancel runner Jobs', (j) =>
    j
      .command(
        'list',
        'List runner Jobs (newest first)',
        (b) =>
          b
            .option('all-namespaces', { alias: 'A', type: 'boolean', describe: 'List in every namespace' })
            .option('no-headers', { type: 'boolean', describe: 'Print the table without its header row' })
            .example('$0 jobs list -n crate -o name', 'Names only (job.batch/<name>)'),
        (argv) => {
          const a = argv as unknown as Args;
          env.select(async () => {
            const g = globals(a, env);
            const conn = await env.ctx.connect(g.connect);
            const ns = a['all-namespaces'] === true ? undefined : (g.namespace ?? conn.namespace);
            const rows = await listJobs(conn.kube, ns);
            const now = env.ctx.now();
            printValue(env.ctx.stdout, rows, g.output, (v) => jobsTable(v as JobRow[], now, g.noHeaders, false), {
              jsonpath: g.jsonpath,
              names: (v) => (v as JobRow[]).map((r) => `job.batch/${r.name}`),
              wide: (v) => jobsTable(v as JobRow[], now, g.noHeaders, true),
            });
            return 0;
          });
        },
      )
      .command(
        'attach <job>',
        "Follow a runner Job's progress again (after Ctrl-C or from another terminal); exits with its code",
        (b) => b.positional('job', { type: 'string', describe: 'Job name' }),
        (argv) => {
          const a = argv as unknown as Args;
          env.select(async () => {
            const g = globals(a, env);
            const name = parseJobArg(a.job);
            const conn = await env.ctx.connect(g.connect);
            const ns = g.namespace ?? conn.namespace;
            const job = await conn.kube.get({ apiVersion: 'batch/v1', kind: 'Job', namespace: ns, name });
            if (!job)
              throw new UsageError(
                `Job ${ns}/${name} not found`,
                'List the Jobs with kubectl crate-decommission jobs list',
              );
            return attach(env.ctx, g, conn.kube, ns, name);
          });
        },
      )
      .command(
        'cancel <job>',
        'Stop a runner Job safely: its runner gets SIGTERM, resets allocation and releases the Lease; then the Job is deleted',
        (b) =>
          b.positional('job', { type: 'string', describe: 'Job name' }).option('grace-period', {
            type: 'number',
            default: 60,
            describe: 'Seconds the runner gets to stop safely',
          }),
        (argv) => {
          const a = argv as unknown as Args;
          env.select(async () => {
            const g = globals(a, env);
            const name = parseJobArg(a.job);
            const gracePeriodSeconds = a['grace-period'];
            if (
              typeof gracePeriodSeconds !== 'number' ||
              !Number.isInteger(gracePeriodSeconds) ||
              gracePeriodSeconds < 1
            ) {
              throw new UsageError(
                `invalid --grace-period "${String(gracePeriodSeconds)}": must be a whole number of seconds >= 1`,
                'The runner needs time to reset allocation; use e.g. --grace-period 60',
              );
            }
            const conn = await env.ctx.connect(g.connect);
            const ns = g.namespace ?? conn.namespace;
            if (g.dryRunMode === 'client') {
              if (g.output === 'text') env.ctx.stdout.write(`would cancel job.batch/${name} in ${ns}\n`);
              else printActions(env, g, [`job.batch/${name} cancelled (dry run)`], undefined, ns);
              return 0;
            }
            if (g.dryRunMode === 'server') {
              const res = await cancelJob(conn.kube, ns, name, gracePeriodSeconds, { dryRun: true });
              if (!res.found)
                throw new UsageError(
                  `Job ${ns}/${name} not found`,
                  'List the Jobs with kubectl crate-decommission jobs list',
                );
              for (const p of res.pods) env.ctx.stdout.write(`pod/${p} deleted (server dry run)\n`);
              env.ctx.stdout.write(`job.batch/${name} deleted (server dry run)\n`);
              return 0;
            }
            if (!g.yes) {
              const ok = await env.ctx.confirm(
                `Cancel job ${name} in ${ns}? Its runner stops safely after the current step`,
              );
              if (!ok) return declined(env.ctx.stderr);
            }
            const res = await cancelJob(conn.kube, ns, name, gracePeriodSeconds);
            if (!res.found)
              throw new UsageError(
                `Job ${ns}/${name} not found`,
                'List the Jobs with kubectl crate-decommission jobs list',
              );
            const lines = [...res.pods.map((p) => `pod/${p} deleted`), `job.batch/${name} deleted`];
            if (g.output === 'text') {
              for (const p of res.pods)
                env.ctx.stdout.write(
                  `pod/${p} deleted (grace period ${gracePeriodSeconds}s: the runner stops safely)\n`,
                );
              env.ctx.stdout.write(`job.batch/${name} deleted\n`);
            } else {
              printActions(env, g, lines, undefined, ns);
            }
            return 0;
          });
        },
      )
      .demandCommand(1, 'jobs needs a subcommand: list, attach or cancel'),
  );
}

/** kubectl's columns: ages (5m, 3h12m) and the run's duration; -o wide adds the timestamps. */
function jobsTable(rows: JobRow[], now: Date, noHeaders = false, wide = false): string {
  if (rows.length === 0) return noHeaders ? '' : 'No runner Jobs found.';
  const duration = (r: JobRow) =>
    r.started ? humanDuration((r.completed ? Date.parse(r.completed) : now.getTime()) - Date.parse(r.started)) : '-';
  return table(
    [
      'NAMESPACE',
      'NAME',
      'OPERATION',
      'CLUSTER',
      'STATUS',
      'DURATION',
      'AGE',
      ...(wide ? ['STARTED', 'COMPLETED'] : []),
    ],
    rows.map((r) => [
      r.namespace,
      r.name,
      r.operation,
      r.cluster,
      r.status,
      duration(r),
      age(r.started, now),
      ...(wide ? [r.started ?? '-', r.completed ?? '-'] : []),
    ]),
    { noHeaders },
  );
}
