// `decommission <pod>`: drain one CrateDB node and stop it (the seed's decommission_pod).
import { declareOperation } from './operation.js';

export const declareDecommission = declareOperation({
  operation: 'decommission',
  command: 'decommission <pod>',
  describe: 'Decommission one CrateDB pod: drain its node, stop it, let Kubernetes re-create it',
  positional: 'pod',
  positionalDescribe: 'pod name (or pod/<name>)',
  bareKind: 'pod',
  allowed: ['pod'],
  examples: [['$0 decommission crate-data-hot-prod-2 -n crate --timeout 20m', 'Decommission with a 20 minute drain timeout']],
  confirm: (t, ns) => `Decommission pod ${t.name} in ${ns}?`,
});
