// The real PluginKube (shared/adapters/plugin-kube.ts) keeps the contract against the test cluster's API server, in a
// namespace of its own.
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { CoreV1Api } from '@kubernetes/client-node';
import { describe, it } from 'vitest';
import { createPluginKube } from '../../shared/adapters/plugin-kube.js';
import { loadKubeConfig } from '../../shared/adapters/kubeconfig.js';
import { pluginKubeContract } from './plugin-kube.contract.js';

const kubeconfig = process.env.CDK_CONTRACT_KUBECONFIG ?? `${process.env.CDK_STATE ?? '/var/lib/cdk'}/kubeconfig`;

if (!existsSync(kubeconfig)) {
  describe('PluginKube contract on the test cluster', () => {
    // A suite that cannot run fails: the e2e global setup brings the cluster up first.
    it('needs the test cluster', () => {
      throw new Error(`${kubeconfig} is absent: run test/cluster/up (as root) first`);
    });
  });
} else {
  const { kc } = loadKubeConfig({ kubeconfig });
  const core = kc.makeApiClient(CoreV1Api);
  const namespace = `cdk-plugin-contract-${randomBytes(3).toString('hex')}`;
  let counter = 0;
  pluginKubeContract(
    () => createPluginKube(kc),
    async () => {
      await core.createNamespace({
        body: { metadata: { name: namespace, labels: { 'app.kubernetes.io/part-of': 'crate-decommission-tests' } } },
      });
      return {
        namespace,
        timeoutMs: 20_000,
        uniqueName: (prefix) => `${prefix}-${++counter}-${randomBytes(2).toString('hex')}`,
        async cleanup() {
          await core.deleteNamespace({ name: namespace }).catch(() => undefined);
        },
      };
    },
    'client-node PluginKube keeps the contract (test cluster)',
  );
}
