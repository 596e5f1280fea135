// Builders for StatefulSets in detection tests: a crate-operator-like data-hot StatefulSet unless told otherwise.
import type { V1Container, V1LifecycleHandler, V1StatefulSet } from '@kubernetes/client-node';

/** crate-operator's preStop wrapper, as create.py writes it (DCUTIL_FILESERVER_URL, DECOMMISSION_TIMEOUT 720s). */
export const OPERATOR_PRESTOP = [
  '/bin/sh',
  '-c',
  'ARCH=$(uname -m) &&\n' +
    'curl -sLO http://dc-util-fileserver.dcutil.svc.cluster.local/latest/dc_util-linux-${ARCH} &&\n' +
    'curl -sLO http://dc-util-fileserver.dcutil.svc.cluster.local/latest/dc_util-linux-${ARCH}.sha256 &&\n' +
    'sha256sum -c dc_util-linux-${ARCH}.sha256 &&\n' +
    'chmod +x dc_util-linux-${ARCH} &&\n' +
    './dc_util-linux-${ARCH} --min-availability PRIMARIES --timeout 720s || true',
];

export const SQL_EXPORTER: V1Container = {
  name: 'sql-exporter',
  image: 'ghcr.io/burningalchemist/sql_exporter:0.17.0',
  command: ['/bin/sql_exporter', '-config.file=/config/sql-exporter.yaml', '-web.listen-address=:9399'],
  ports: [{ containerPort: 9399, name: 'sql-exporter' }],
};

export interface StatefulSetOptions {
  name?: string;
  /** undefined: leave spec.replicas unset. */
  replicas?: number;
  /** undefined: leave terminationGracePeriodSeconds unset. */
  grace?: number;
  labels?: Record<string, string>;
  /** An exec command, or a whole handler; omitted: no lifecycle at all. */
  preStop?: string[] | V1LifecycleHandler;
  crate?: Partial<V1Container>;
  /** Replaces the containers entirely. */
  containers?: V1Container[];
}

export function crateContainer(preStop?: string[] | V1LifecycleHandler, extra: Partial<V1Container> = {}): V1Container {
  const container: V1Container = {
    name: 'crate',
    image: 'crate:5.10.3',
    // HTTPS on port 4200, the scheme dc_util uses without -proto: the hooks here are judged on their other rules.
    // Tests of -proto set args themselves (issue 8 item 1).
    args: ['-Cssl.http.enabled=true'],
    ports: [{ containerPort: 4200, name: 'http' }],
    ...extra,
  };
  if (preStop !== undefined) {
    container.lifecycle = { preStop: Array.isArray(preStop) ? { exec: { command: preStop } } : preStop };
  }
  return container;
}

export function statefulSet(options: StatefulSetOptions = {}): V1StatefulSet {
  const has = (key: keyof StatefulSetOptions): boolean => Object.prototype.hasOwnProperty.call(options, key);
  const containers = options.containers ?? [SQL_EXPORTER, crateContainer(options.preStop, options.crate)];
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: options.name ?? 'crate-data-hot-6a0c7a1e', labels: options.labels ?? {} },
    spec: {
      ...(has('replicas') ? (options.replicas === undefined ? {} : { replicas: options.replicas }) : { replicas: 3 }),
      selector: { matchLabels: { app: 'crate' } },
      serviceName: 'crate',
      template: {
        metadata: { labels: { app: 'crate' } },
        spec: {
          containers,
          ...(options.grace === undefined ? {} : { terminationGracePeriodSeconds: options.grace }),
        },
      },
    },
  };
}
