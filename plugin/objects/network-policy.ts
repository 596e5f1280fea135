// The NetworkPolicies that let the runner reach CrateDB (egress on the runner, ingress on the CrateDB pods).
import type { V1NetworkPolicy } from '@kubernetes/client-node';
import {
  API_SERVER_PORTS,
  APP_NAME,
  COMMON_LABELS,
  CRATEDB_HTTP_PORT,
  LABEL_COMPONENT,
  RUNNER_POD_SELECTOR,
} from './constants.js';

export interface NetworkPolicyOptions {
  namespace: string;
  /** Labels selecting the CrateDB pods, e.g. { app: 'crate' } or crate-operator's. */
  crateSelector: Record<string, string>;
  /** Name prefix (default crate-decommission). */
  name?: string;
}

export interface RunnerNetworkPolicies {
  /** On the runner pods: egress to CrateDB 4200, the API server (443/6443) and cluster DNS. */
  runnerEgress: V1NetworkPolicy;
  /**
   * On the CrateDB pods: ingress from runner pods on 4200. Apply only where the CrateDB pods are
   * already isolated by a NetworkPolicy: a first policy selecting a pod denies all other ingress.
   */
  crateIngress: V1NetworkPolicy;
}

export function buildNetworkPolicy(opts: NetworkPolicyOptions): RunnerNetworkPolicies {
  if (Object.keys(opts.crateSelector).length === 0) {
    throw new RangeError('crateSelector must not be empty (it would select every pod of the namespace)');
  }
  const prefix = opts.name ?? APP_NAME;
  const labels = { ...COMMON_LABELS, [LABEL_COMPONENT]: 'network' };
  const crate = { podSelector: { matchLabels: { ...opts.crateSelector } } };
  return {
    runnerEgress: {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: `${prefix}-runner-egress`, namespace: opts.namespace, labels: { ...labels } },
      spec: {
        podSelector: { matchLabels: { ...RUNNER_POD_SELECTOR } },
        policyTypes: ['Egress'],
        egress: [
          { to: [crate], ports: [{ protocol: 'TCP', port: CRATEDB_HTTP_PORT }] },
          // The API server is not a pod: its address is unknown here, so allow its ports to anywhere.
          { ports: API_SERVER_PORTS.map((port) => ({ protocol: 'TCP', port })) },
          {
            to: [
              {
                namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
                podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
              },
            ],
            ports: [
              { protocol: 'UDP', port: 53 },
              { protocol: 'TCP', port: 53 },
            ],
          },
        ],
      },
    },
    crateIngress: {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: `${prefix}-crate-ingress`, namespace: opts.namespace, labels: { ...labels } },
      spec: {
        podSelector: { matchLabels: { ...opts.crateSelector } },
        policyTypes: ['Ingress'],
        ingress: [
          {
            // `_from` is client-node's name for `from` (a reserved word); dumpYaml/the API client map it.
            _from: [{ podSelector: { matchLabels: { ...RUNNER_POD_SELECTOR } } }],
            ports: [{ protocol: 'TCP', port: CRATEDB_HTTP_PORT }],
          },
        ],
      },
    },
  };
}
