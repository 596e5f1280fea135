// `restart <pod>`: decommission one CrateDB pod, re-create it and wait until the cluster is healthy again.
import { declareOperation } from './operation.js';

export const declareRestart = declareOperation({
  operation: 'restart',
  command: 'restart <pod>',
  describe: 'Restart one CrateDB pod safely (decommission, re-create, wait for Ready and health)',
  positional: 'pod',
  positionalDescribe: 'a pod name, or pod/<name>',
  bareKind: 'pod',
  allowed: ['pod'],
  examples: [['$0 restart crate-data-hot-prod-2 -n crate', 'Restart one pod']],
  confirm: (t, ns) => `Restart pod ${t.name} in ${ns}?`,
});
