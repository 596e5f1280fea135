// `worker`: a Temporal worker serving the engine's activities and workflows (docs/temporal.md). Runs until
// Ctrl-C / SIGTERM; then running activities are cancelled and stop safely and their workflows retry them elsewhere.
// Temporal is loaded only here (and by `rollout --temporal`): the plugin's start-up does not pay for it.
import type { Argv } from 'yargs';
import { ExitCode, UsageError } from '../../shared/task/index.js';
import {
  declareTemporalOptions,
  parseTemporalOptions,
  temporalUnavailable,
  temporalUnreachableLine,
} from '../temporal-options.js';
import { globals, type Args, type CommandEnv } from './common.js';

export function declareWorker(y: Argv, env: CommandEnv): Argv {
  return y.command(
    'worker',
    "Run a Temporal worker for the engine's activities and the maintenance workflows (Kubernetes clusters: the contexts of --kubeconfig)",
    (b) =>
      declareTemporalOptions(b, true)
        .option('max-concurrent-activities', {
          type: 'number',
          describe: 'Activities run at once by this worker (default: SDK default)',
          group: 'Temporal:',
        })
        .option('log-level', { type: 'string', default: 'info', describe: 'debug|info|warn|error' })
        .example(
          '$0 worker --temporal-address temporal:7233 --task-queue crate-maintenance',
          'Serve the task queue with the contexts of ~/.kube/config',
        )
        .example('$0 worker --kubeconfig fleet.kubeconfig', 'One worker for every cluster named in fleet.kubeconfig'),
    (argv) => {
      const a = argv as unknown as Args;
      env.select(async () => {
        const g = globals(a, env);
        const t = parseTemporalOptions(a, env.ctx.env);
        const level = String(a['log-level'] ?? 'info');
        if (!['debug', 'info', 'warn', 'error'].includes(level))
          throw new UsageError(`invalid --log-level "${level}"`, 'Use debug, info, warn or error');
        const max = a['max-concurrent-activities'];
        if (max !== undefined && (typeof max !== 'number' || !Number.isInteger(max) || max < 1)) {
          throw new UsageError(
            '--max-concurrent-activities must be a positive integer',
            'Pass e.g. --max-concurrent-activities 4',
          );
        }
        let mod: typeof import('../../shared/temporal/worker.js');
        try {
          mod = await import('../../shared/temporal/worker.js');
        } catch (err) {
          throw temporalUnavailable(err);
        }
        try {
          await mod.runTemporalWorker({
            address: t.address,
            namespace: t.namespace,
            taskQueue: t.taskQueue,
            ...(g.connect.kubeconfig ? { kubeconfig: g.connect.kubeconfig } : {}),
            logLevel: level as 'debug' | 'info' | 'warn' | 'error',
            write: (line) => env.ctx.stdout.write(`${line}\n`),
            signal: env.ctx.signal,
            ...(typeof max === 'number' ? { maxConcurrentActivities: max } : {}),
          });
        } catch (err) {
          if (!(err instanceof mod.TemporalConnectError)) throw err;
          env.ctx.stderr.write(`${temporalUnreachableLine(t.address, t.namespace, err, 'the worker did not start')}\n`);
          return ExitCode.unreachable;
        }
        return 0;
      });
    },
  );
}
