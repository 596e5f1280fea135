// `decommission <pod>`: drain one CrateDB node and stop it (decommissionPod in shared/decommission.ts).
import { declareOperation } from './operation.js';

export const declareDecommission = declareOperation({
  operation: 'decommission',
  command: 'decommission <pod>',
  describe: 'Decommission one CrateDB pod: drain its node, stop it, let Kubernetes re-create it',
  positional: 'pod',
  positionalDescribe: 'a pod name, or pod/<name>',
  bareKind: 'pod',
  allowed: ['pod'],
  examples: [['$0 decommission crate-2 --decommission-timeout 20m', 'Decommission with a 20 minute drain timeout']],
  confirm: (t, ns) => `Decommission pod ${t.name} in ${ns}?`,
});
