// `rollout <target>`: roll a CrateDB cluster one pod at a time (rollingRestart in shared/rolling.ts); with
// --temporal as that workflow on a Temporal server (docs/temporal.md).
import { declareOperation } from './operation.js';
import { UsageError } from '../../shared/task/index.js';
import { declareTemporalOptions, temporalUnavailable } from '../temporal-options.js';

export const declareRollout = declareOperation({
  operation: 'rollout',
  command: 'rollout <target>',
  describe: 'Restart every pod of a CrateDB cluster, one at a time, without making data unavailable',
  positional: 'target',
  positionalDescribe: 'statefulset/<name>, sts/<name>, cratedb/<name>, pod/<name> or a StatefulSet name',
  bareKind: 'statefulset',
  examples: [
    ['$0 rollout sts/crate-data-hot-prod -n crate', 'Roll a StatefulSet in a Job, following its progress'],
    ['$0 rollout cratedb/prod -n crate --local', 'Roll a crate-operator cluster from this machine'],
    ['$0 rollout crate --dry-run -o yaml', 'Print the runner Job instead of creating it'],
    [
      '$0 rollout cratedb/prod -n crate --temporal --temporal-address temporal:7233',
      'Run it as a Temporal workflow (a worker must serve the task queue)',
    ],
  ],
  confirm: (t, ns) => `Restart every pod of ${t.kind}/${t.name} in ${ns}, one at a time?`,
  options: (b) =>
    declareTemporalOptions(b, false)
      .option('temporal', {
        type: 'boolean',
        describe: 'Start the clusterMaintenanceWorkflow on Temporal instead of a Job, and follow it',
        group: 'Temporal:',
      })
      .option('worker-context', {
        type: 'string',
        describe:
          "The kubeconfig context naming this cluster on the worker's side (default: --context, else the worker's default)",
        group: 'Temporal:',
      })
      .option('heartbeat-timeout', {
        type: 'number',
        describe:
          'Seconds without a heartbeat after which a worker is taken for dead and its pod resumed by another (default 60)',
        group: 'Temporal:',
      }),
  runInstead: (ctx, g, task, args) => {
    if (args.temporal !== true) {
      const stray = [
        'temporal-address',
        'temporal-namespace',
        'task-queue',
        'worker-context',
        'heartbeat-timeout',
      ].find((f) => args[f] !== undefined);
      if (stray)
        throw new UsageError(`--${stray} needs --temporal`, 'Add --temporal to run the rollout as a Temporal workflow');
      return null;
    }
    return import('../temporal-rollout.js').then(
      (m) => m.runRolloutWithTemporal(ctx, g, task, args),
      (err: unknown) => Promise.reject(temporalUnavailable(err)),
    );
  },
});
