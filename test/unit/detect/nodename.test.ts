import type { V1Container } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { nodeNameFromArgs } from '../../../shared/detect/index.js';
import { dcUtilNodeName } from '../../../shared/detect/nodename.js';

const POD = 'crate-data-hot-6a0c7a1e-2';
const withCommand = (command: string[], extra: Partial<V1Container> = {}): V1Container => ({
  name: 'crate',
  image: 'crate:5.10',
  command,
  ...extra,
});

describe('nodeNameFromArgs', () => {
  it.each<[string, V1Container, string | null]>([
    [
      'crate-operator: data-hot-$(hostname | awk -F- ...)',
      withCommand([
        '/docker-entrypoint.sh',
        'crate',
        '-Cstats.enabled=true',
        "-Cnode.name=data-hot-$(hostname | awk -F- '{print $NF}')",
        '-Ccluster.name=demo',
      ]),
      'data-hot-2',
    ],
    [
      'crate-operator master',
      withCommand(['/docker-entrypoint.sh', 'crate', "-Cnode.name=master-$(hostname | awk -F- '{print $NF}')"]),
      'master-2',
    ],
    [
      'in args, not command',
      { name: 'crate', args: ['crate', "-Cnode.name=data-hot-$(hostname | awk -F '-' '{print $NF}')"] },
      'data-hot-2',
    ],
    ['$(hostname)', withCommand(['crate', '-Cnode.name=$(hostname)']), POD],
    ['$(hostname -s)', withCommand(['crate', '-Cnode.name=$(hostname -s)']), POD],
    ['${HOSTNAME}', withCommand(['crate', '-Cnode.name=${HOSTNAME}']), POD],
    ['$HOSTNAME', withCommand(['crate', '-Cnode.name=$HOSTNAME']), POD],
    ['${HOSTNAME##*-}', withCommand(['crate', '-Cnode.name=node-${HOSTNAME##*-}']), 'node-2'],
    [
      '${HOSTNAME%-*} (StatefulSet name)',
      withCommand(['crate', '-Cnode.name=${HOSTNAME%-*}']),
      'crate-data-hot-6a0c7a1e',
    ],
    ['rev | cut | rev', withCommand(['crate', '-Cnode.name=crate-$(hostname | rev | cut -d- -f1 | rev)']), 'crate-2'],
    ['sed s/.*-//', withCommand(['crate', "-Cnode.name=n$(hostname | sed 's/.*-//')"]), 'n2'],
    ['grep -oE digits', withCommand(['crate', "-Cnode.name=n$(hostname | grep -oE '[0-9]+$')"]), 'n2'],
    ['echo $HOSTNAME | awk', withCommand(['crate', "-Cnode.name=n$(echo $HOSTNAME | awk -F- '{print $NF}')"]), 'n2'],
    ['backticks', withCommand(['crate', "-Cnode.name=n`hostname | awk -F- '{print $NF}'`"]), 'n2'],
    [
      'inside a /bin/sh -c script, quoted',
      withCommand([
        '/bin/sh',
        '-c',
        'exec /docker-entrypoint.sh crate -Cnode.name="data-$(hostname | awk -F- \'{print $NF}\')" -Ccluster.name=x',
      ]),
      'data-2',
    ],
    [
      '$(POD_NAME) expanded by kubelet from the downward API',
      withCommand(['crate', '-Cnode.name=$(POD_NAME)'], {
        env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
      }),
      POD,
    ],
    [
      '${NODE_PREFIX} from a literal env var',
      withCommand(['/bin/sh', '-c', 'crate -Cnode.name=${NODE_PREFIX}-${HOSTNAME##*-}'], {
        env: [{ name: 'NODE_PREFIX', value: 'hot' }],
      }),
      'hot-2',
    ],
    [
      "$$(POD_NAME) is kubelet's escape: the shell then runs a command POD_NAME",
      withCommand(['crate', '-Cnode.name=$$(POD_NAME)'], {
        env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
      }),
      null,
    ],
    ['$$HOSTNAME (kubelet escape) is the shell variable', withCommand(['crate', '-Cnode.name=$$HOSTNAME']), POD],
    ['a literal name', withCommand(['crate', '-Cnode.name=fixed-node']), 'fixed-node'],
    ['unresolvable command', withCommand(['crate', '-Cnode.name=$(cat /etc/nodename)']), null],
    [
      'env var from a Secret',
      withCommand(['crate', '-Cnode.name=$(NODE)'], {
        env: [{ name: 'NODE', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }],
      }),
      null,
    ],
    [
      '$(HOSTNAME) is not a declared env var: the shell runs a command HOSTNAME',
      withCommand(['crate', '-Cnode.name=$(HOSTNAME)']),
      null,
    ],
    ['no -Cnode.name at all', withCommand(['crate', '-Ccluster.name=x']), null],
    ['no command', { name: 'crate' }, null],
  ])('%s', (_title, container, expected) => {
    expect(nodeNameFromArgs(container, POD)).toBe(expected);
  });

  it('resolves like awk would: the last dash-separated field', () => {
    const container = withCommand(['crate', "-Cnode.name=data-hot-$(hostname | awk -F- '{print $NF}')"]);
    expect(nodeNameFromArgs(container, 'crate-data-hot-x-0')).toBe('data-hot-0');
    expect(nodeNameFromArgs(container, 'standalone')).toBe('data-hot-standalone');
  });
});

describe('dcUtilNodeName (dc_util derives the node from the hostname, not from -Cnode.name)', () => {
  it.each<[string, string | undefined, string | null]>([
    ['crate-data-hot-6a0c7a1e-2', undefined, 'data-hot-2'],
    ['crate-data-hot-d84c10e6-d8fb-4d10-bf60-f9f2ea919a73-2', undefined, 'data-hot-2'],
    ['crate-data-hot-0', undefined, 'data-hot-0'],
    ['crate-master-6a0c7a1e-0', undefined, null], // default prefix does not match master
    ['crate-data-cold-6a0c7a1e-1', undefined, null],
    ['crate-0', undefined, null],
    ['cratedb-1', 'cratedb', 'cratedb-1'],
    ['crate-master-6a0c7a1e-0', 'master', 'master-0'],
  ])('%s with prefix %s -> %s', (hostname, prefix, expected) => {
    expect(dcUtilNodeName(hostname, prefix)).toBe(expected);
  });
});
