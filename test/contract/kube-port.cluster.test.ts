// The real KubernetesPort keeps the contract against the test cluster's API server, in a namespace of its own.
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { describe, it } from 'vitest';
import { createKubernetesPort } from '../../shared/adapters/kube.js';
import { loadKubeConfig } from '../../shared/adapters/kubeconfig.js';
import { kubePortContract } from './kube-port.contract.js';

const kubeconfig = process.env.CDK_CONTRACT_KUBECONFIG ?? `${process.env.CDK_STATE ?? '/var/lib/cdk'}/kubeconfig`;

if (!existsSync(kubeconfig)) {
  describe('KubernetesPort contract on the test cluster', () => {
    // A suite that cannot run fails: the e2e global setup brings the cluster up first.
    it('needs the test cluster', () => {
      throw new Error(`${kubeconfig} is absent: run test/cluster/up (as root) first`);
    });
  });
} else {
  const { kc } = loadKubeConfig({ kubeconfig });
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const namespace = `cdk-contract-${randomBytes(3).toString('hex')}`;
  let counter = 0;

  kubePortContract(
    () => createKubernetesPort(kc, { reportingInstance: 'port-contract' }),
    async () => {
      await core.createNamespace({
        body: { metadata: { name: namespace, labels: { 'app.kubernetes.io/part-of': 'crate-decommission-tests' } } },
      });
      return {
        namespace,
        timeoutMs: 20_000,
        uniqueName: (prefix) => `${prefix}-${++counter}-${randomBytes(2).toString('hex')}`,
        async createPod(hint) {
          const name = `${hint}-${++counter}`;
          // A scheduling gate keeps the pod Pending on no node: the contract needs the object, not a process.
          const pod = await core.createNamespacedPod({
            namespace,
            body: {
              metadata: { name, labels: { app: 'port-contract' } },
              spec: {
                schedulingGates: [{ name: 'crate.io/port-contract' }],
                containers: [{ name: 'crate', image: 'crate:6' }],
              },
            },
          });
          return { name, uid: pod.metadata!.uid! };
        },
        async createStatefulSet(hint) {
          const name = `${hint}-${++counter}`;
          // No pods (replicas 0): the contract needs the object's labels.
          await apps.createNamespacedStatefulSet({
            namespace,
            body: {
              metadata: { name, labels: { app: 'port-contract' } },
              spec: {
                replicas: 0,
                serviceName: name,
                selector: { matchLabels: { app: name } },
                template: {
                  metadata: { labels: { app: name } },
                  spec: { containers: [{ name: 'crate', image: 'crate:6' }] },
                },
              },
            },
          });
          // The StatefulSet controller writes the new object's status once (observedGeneration): a resourceVersion
          // read before that is stale a moment later. Wait for it, so the read the contract starts from is settled.
          for (let i = 0; ; i++) {
            const sts = await apps.readNamespacedStatefulSet({ namespace, name });
            if (sts.status?.observedGeneration === sts.metadata?.generation) break;
            if (i >= 200) throw new Error(`StatefulSet ${name}: no status from its controller within 20 s`);
            await new Promise((r) => setTimeout(r, 100));
          }
          return name;
        },
        async cleanup() {
          await core.deleteNamespace({ name: namespace }).catch(() => undefined);
        },
      };
    },
    'client-node KubernetesPort keeps the contract (test cluster)',
  );
}
