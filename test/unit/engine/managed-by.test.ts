// One app.kubernetes.io/managed-by value (issue 12 item 8): the engine's Lease carries the same one as the plugin's
// Jobs; a Lease written with the old value (`crate-decommission`) is still taken over and released as before.
import { describe, expect, it } from 'vitest';
import { ANNOTATION_OPERATION, ANNOTATION_PROGRESS, ClusterLease, leaseName } from '../../../shared/lease.js';
import { LABEL_MANAGED_BY, MANAGED_BY } from '../../../shared/labels.js';
import { buildRunnerJob } from '../../../plugin/objects/runner-job.js';
import { world } from './helpers.js';

const ns = 'crate';

describe('managed-by', () => {
  it('the Lease and the runner Job carry one value', async () => {
    const w = await world({ replicas: 3 });
    const held = await ClusterLease.acquire(w.deps(), {
      namespace: ns,
      clusterName: w.clusterName,
      operationId: 'op-1',
    });
    const lease = w.kube.leases.get(`${ns}/${leaseName(w.clusterName)}`);
    expect(lease?.metadata?.labels?.[LABEL_MANAGED_BY]).toBe('kubectl-crate-decommission');
    expect(MANAGED_BY).toBe('kubectl-crate-decommission');
    await held.release();
    const job = buildRunnerJob({
      name: 'crate-decommission-x',
      namespace: ns,
      image: 'img',
      args: ['rollout', 'cratedb/x'],
      activeDeadlineSeconds: 3600,
    });
    expect(job.metadata?.labels?.[LABEL_MANAGED_BY]).toBe(MANAGED_BY);
  });

  it('a Lease labelled with the old value (crate-decommission) is taken over once expired, like any other', async () => {
    const w = await world({ replicas: 1, tables: [] });
    const at = new Date(w.clock.now() - 3_700_000);
    await w.kube.createLease(ns, {
      metadata: {
        name: leaseName(w.clusterName),
        labels: { [LABEL_MANAGED_BY]: 'crate-decommission' },
        annotations: {
          [ANNOTATION_OPERATION]: 'op-old',
          [ANNOTATION_PROGRESS]: JSON.stringify({
            operationId: 'op-old',
            done: {},
            current: null,
            allocationSet: null,
          }),
        },
      },
      spec: { holderIdentity: 'crashed-runner', leaseDurationSeconds: 60, acquireTime: at, renewTime: at },
    });
    const held = await ClusterLease.acquire(w.deps(), {
      namespace: ns,
      clusterName: w.clusterName,
      operationId: 'op-new',
    });
    const lease = w.kube.leases.get(`${ns}/${leaseName(w.clusterName)}`);
    expect(lease?.spec?.holderIdentity).toBe(held.holder);
    expect(lease?.metadata?.annotations?.[ANNOTATION_OPERATION]).toBe('op-new');
    await held.release();
  });
});
