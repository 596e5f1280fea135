// A simulated CrateDB cluster for the e2e suite: a StatefulSet shaped like crate-operator's
// (sidecar first, container `crate`, OnDelete, Parallel), with or without dc_util in preStop.
import { stringify } from 'yaml';
import { eventually, kubectlJson, kubectlOk, sim } from './harness.js';

export interface CrateClusterOptions {
  namespace: string;
  /** Cluster name; also the simulator's cluster.name (unique per test). */
  name: string;
  replicas?: number;
  dcUtil: boolean;
  /** `shardBytes`: bytes in every copy of each shard (the simulator's data volume; default none). */
  tables?: { name: string; shards: number; replicas: number; shardBytes?: number }[];
  /** Simulator config (relocation rate, exit delay, ...). */
  simConfig?: Record<string, unknown>;
}

export const statefulSetName = (name: string) => `crate-data-hot-${name}`;

export function crateClusterObjects(o: CrateClusterOptions): unknown[] {
  const sts = statefulSetName(o.name);
  const labels = { 'app.kubernetes.io/name': o.name, 'app.kubernetes.io/component': 'cratedb' };
  const preStop = o.dcUtil
    ? {
        exec: {
          command: [
            '/bin/sh',
            '-c',
            'ARCH=$(uname -m) && dc_util-linux-${ARCH} --min-availability PRIMARIES --timeout 720s --proto http || true',
          ],
        },
      }
    : undefined;
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'crate', namespace: o.namespace } },
    {
      // dc_util reads its StatefulSet (labels, grace period) with the pod's token.
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'crate-dc-util', namespace: o.namespace },
      rules: [{ apiGroups: ['apps'], resources: ['statefulsets'], verbs: ['get'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'crate-dc-util', namespace: o.namespace },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'crate-dc-util' },
      subjects: [{ kind: 'ServiceAccount', name: 'crate', namespace: o.namespace }],
    },
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: sts, namespace: o.namespace, labels },
      spec: {
        replicas: o.replicas ?? 3,
        serviceName: `crate-discovery-${o.name}`,
        podManagementPolicy: 'Parallel',
        updateStrategy: { type: 'OnDelete' },
        selector: { matchLabels: { 'app.kubernetes.io/name': o.name, 'cdk-test/sts': sts } },
        template: {
          metadata: { labels: { ...labels, 'cdk-test/sts': sts } },
          spec: {
            serviceAccountName: 'crate',
            terminationGracePeriodSeconds: 600,
            containers: [
              {
                name: 'sql-exporter',
                image: 'busybox:1.36',
                // pid 1 of its own PID namespace ignores a SIGTERM it has no handler for (as in Kubernetes): trap it,
                // else every deletion waits the whole grace period for this sidecar
                command: ['sh', '-c', "trap 'exit 0' TERM; sleep 1000000 & wait"],
              },
              {
                name: 'crate',
                image: 'crate:5.10.3',
                env: [
                  {
                    name: 'POD_INDEX',
                    valueFrom: { fieldRef: { fieldPath: "metadata.labels['apps.kubernetes.io/pod-index']" } },
                  },
                ],
                args: [
                  `-Ccluster.name=${o.name}`,
                  '-Cnode.name=data-hot-$(POD_INDEX)',
                  '-Cauth.host_based.enabled=true',
                ],
                ports: [{ name: 'http', containerPort: 4200 }],
                readinessProbe: { httpGet: { path: '/', port: 4200 }, periodSeconds: 1, failureThreshold: 1 },
                ...(preStop ? { lifecycle: { preStop } } : {}),
              },
            ],
          },
        },
      },
    },
  ];
}

/** Create the cluster, wait until every pod is Ready and every node joined, create its tables. */
export async function createCrateCluster(o: CrateClusterOptions): Promise<void> {
  const docs = crateClusterObjects(o)
    .map((d) => stringify(d))
    .join('---\n');
  await kubectlOk(['apply', '-f', '-'], docs);
  const replicas = o.replicas ?? 3;
  if (o.simConfig) await sim('POST', `/clusters/${o.name}/config`, o.simConfig);
  await eventually(
    `${replicas} ready pods of ${statefulSetName(o.name)}`,
    async () => {
      const sts = await kubectlJson(['get', 'sts', statefulSetName(o.name), '-n', o.namespace]);
      return (sts.status?.readyReplicas ?? 0) === replicas;
    },
    120_000,
  );
  await eventually(`${replicas} nodes in simulated cluster ${o.name}`, async () => {
    const c = await sim('GET', `/clusters/${o.name}`);
    return (c.nodes ?? []).length === replicas;
  });
  for (const t of o.tables ?? [{ name: 'metrics', shards: 6, replicas: 1 }]) {
    await sim('POST', `/clusters/${o.name}/tables`, {
      schema: 'doc',
      name: t.name,
      shards: t.shards,
      replicas: t.replicas,
      shardBytes: t.shardBytes ?? 0,
    });
  }
  await eventually(`cluster ${o.name} GREEN`, async () => (await sim('GET', `/clusters/${o.name}`)).health === 'GREEN');
}
