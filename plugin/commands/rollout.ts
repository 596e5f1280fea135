// `rollout <target>`: roll a CrateDB cluster one pod at a time (the seed's ClusterMaintenanceWorkflow).
import { declareOperation } from './operation.js';

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
  ],
  confirm: (t, ns) => `Restart every pod of ${t.kind}/${t.name} in ${ns}, one at a time?`,
});
