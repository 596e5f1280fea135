// The in-memory fakes keep the same port contracts as the real adapters.
import { kubePortContract } from '../../contract/kube-port.contract.js';
import { sqlTransportContract } from '../../contract/sql-transport.contract.js';
import { FakeKube } from '../../support/fakes/kube.js';
import { SYSTEM_PASSWORD, createWorld, type World } from '../../support/fakes/world.js';

const namespace = 'contract';

kubePortContract(
  () => new FakeKube(),
  (port) => {
    const kube = port as FakeKube;
    let counter = 0;
    return {
      namespace,
      uniqueName: (prefix) => `${prefix}-${++counter}`,
      async createPod(hint) {
        const stsName = `c-${hint}-${++counter}`;
        kube.addStatefulSet({
          apiVersion: 'apps/v1',
          kind: 'StatefulSet',
          metadata: { name: stsName, namespace },
          spec: {
            replicas: 1,
            serviceName: stsName,
            selector: { matchLabels: { app: stsName } },
            template: {
              metadata: { labels: { app: stsName } },
              spec: { containers: [{ name: 'crate', image: 'crate:6' }] },
            },
          },
        });
        const name = `${stsName}-0`;
        const uid = kube.pod(namespace, name)?.metadata?.uid;
        if (!uid) throw new Error(`FakeKube did not create ${name}`);
        return { name, uid };
      },
      async createStatefulSet(hint) {
        const name = `s-${hint}-${++counter}`;
        kube.addStatefulSet({
          apiVersion: 'apps/v1',
          kind: 'StatefulSet',
          metadata: { name, namespace },
          spec: { replicas: 0, serviceName: name, selector: { matchLabels: { app: name } }, template: {} },
        });
        return name;
      },
      async cleanup() {
        kube.close();
      },
    };
  },
  'FakeKube keeps the KubernetesPort contract',
);

for (const via of ['http', 'exec'] as const) {
  let world: World;
  sqlTransportContract(
    async () => {
      const pod = world.clusterModel().pods[0];
      if (!pod) throw new Error('no pod in the fake world');
      return via === 'http'
        ? world.sql.http(world.namespace, pod, world.endpoint())
        : world.sql.exec(world.namespace, pod, world.endpoint());
    },
    async () => {
      world = await createWorld({ replicas: 2, operator: true, tables: [] });
      return {
        okQuery: { stmt: 'SELECT 1' },
        badQuery: { stmt: 'SELEC 1', httpStatus: 400, code: 4000 },
        secrets: [SYSTEM_PASSWORD],
        makeUnreachable: () => {
          const pod = world.clusterModel().pods[0]!;
          const absent = { ...pod, name: 'no-such-pod', podIP: '10.255.255.1' };
          return world.sql.http(world.namespace, absent, world.endpoint());
        },
        cleanup: async () => world.close(),
      };
    },
    `FakeSqlFactory.${via} keeps the SqlTransport contract`,
  );
}
