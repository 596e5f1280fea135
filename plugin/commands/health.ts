// `health <target>`: the health gate's named checks, once (exit 0 healthy, 3 unhealthy).
import { declareOperation } from './operation.js';

export const declareHealth = declareOperation({
  operation: 'health',
  command: 'health <target>',
  describe: 'Check the health of a CrateDB cluster (named checks; exit 3 when unhealthy)',
  positional: 'target',
  positionalDescribe: 'statefulset/<name>, sts/<name>, cratedb/<name>, pod/<name> or a StatefulSet name',
  bareKind: 'statefulset',
  examples: [
    ['$0 health sts/crate-data-hot-prod -n crate -o json', 'Health as JSON (runs here, creates nothing)'],
    ['$0 health sts/crate-data-hot-prod -n crate --job', 'Run it in a Job in the cluster (deleted after its result)'],
    ['$0 health crate -n crate -o name', 'Only the failed checks (check/<name>)'],
  ],
  readOnly: true,
  table: true,
});
