// kubectl's flags, as loadKubeConfig maps them, reach the test cluster's API server.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KubeApiError } from '../../shared/errors.js';
import { createKubernetesPort } from '../../shared/adapters/kube.js';
import { loadKubeConfig } from '../../shared/adapters/kubeconfig.js';

const kubeconfig = process.env.CDK_CONTRACT_KUBECONFIG ?? `${process.env.CDK_STATE ?? '/var/lib/cdk'}/kubeconfig`;

describe('kubeconfig flags on the test cluster', () => {
  // A suite that cannot run fails: the e2e global setup brings the cluster up first.
  it('has the test cluster', () => {
    expect(existsSync(kubeconfig), `${kubeconfig} is absent: run test/cluster/up (as root) first`).toBe(true);
  });

  it('--as impersonates: a user without RBAC is forbidden, with the API server reason', async () => {
    const { kc } = loadKubeConfig({ kubeconfig, as: 'cdk-contract-nobody', asGroups: ['cdk-contract-group'] });
    const err = await createKubernetesPort(kc)
      .getPod('default', 'anything')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeApiError);
    expect(err).toMatchObject({ statusCode: 403, reason: 'Forbidden' });
    expect((err as Error).message).toContain('cdk-contract-nobody');
  });

  it('without --as the admin reads fine, with a request timeout set', async () => {
    const { kc, namespace } = loadKubeConfig({ kubeconfig, requestTimeout: '10s' });
    expect(await createKubernetesPort(kc).getPod(namespace, 'cdk-contract-absent')).toBeNull();
  });

  it('--insecure-skip-tls-verify still connects', async () => {
    const { kc } = loadKubeConfig({ kubeconfig, insecureSkipTlsVerify: true });
    expect(await createKubernetesPort(kc).getLease('default', 'cdk-contract-absent')).toBeNull();
  });
});
