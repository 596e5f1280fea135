// Full detection results for the StatefulSet fixtures (the manifests the plugin's offline `plan -f` reads).
import { describe, expect, it } from 'vitest';
import { detectStrategy, findCrateContainer, nodeNameFromArgs } from '../../../shared/detect/index.js';
import { StrategyDetection } from '../../../shared/schemas.js';
import { fixtureNames, loadDocuments, loadStatefulSet } from './fixtures.js';

const OPERATOR_CALL =
  'preStop hook of container crate runs dc_util-linux-${ARCH} --min-availability PRIMARIES --timeout 720s (through a shell)';
/** dc_util without -proto posts https to a plain-HTTP CrateDB (issue 8 item 1): it cannot connect, nothing drains. */
const PROTO_MISMATCH =
  "dc_util posts to https://127.0.0.1:4200 (no -proto flag: dc_util's default https), but CrateDB serves http (ssl.http.enabled is not set: CrateDB's default): dc_util cannot connect, and the node would get a plain SIGTERM without a drain";
const WILL_NOT =
  'dc_util will not decommission: we decommission the node ourselves and delete the pod with a 30s grace period once the CrateDB process has exited';
const OPERATOR_OR_TRUE =
  'dc_util-linux-${ARCH} ends in "|| true" after a chain of && commands (download, checksum): if any step fails the pod only gets a plain SIGTERM';

const expected: Record<string, { detection: StrategyDetection; node1: string | null }> = {
  // crate-operator's wrapper has no -proto, its CrateDB serves plain HTTP: dc_util cannot connect (was kubernetes_managed).
  'crate-operator-data-hot.yaml': {
    node1: 'data-hot-1',
    detection: {
      strategy: 'manual',
      hasPrestopHook: true,
      hasDcUtil: true,
      dcUtilTimeoutSeconds: 1080,
      dcUtilFlagTimeoutSeconds: 720,
      terminationGracePeriodSeconds: 1200,
      deleteGracePeriodSeconds: 30,
      minAvailability: 'PRIMARIES',
      dcUtilWillNotDecommission: true,
      containerName: 'crate',
      dcUtilProto: 'https',
      servedScheme: 'http',
      reasons: [
        OPERATOR_CALL,
        OPERATOR_OR_TRUE,
        'terminationGracePeriodSeconds 1200 != 30, so dc_util uses 1200-120 = 1080s (its own rule), not the 720s flag',
        PROTO_MISMATCH,
        WILL_NOT,
      ],
      // the rule of docs/strategy.md (shared/detect/rules.ts) that wrote each reason
      reasonRules: [
        'dcUtilCommand',
        'dcUtilMayFailSilently',
        'effectiveTimeout',
        'dcUtilProto',
        'dcUtilWillNotDecommission',
      ],
    },
  },
  // No -proto against plain HTTP (was kubernetes_managed).
  'dc-util-direct-argv.yaml': {
    node1: 'data-hot-1',
    detection: {
      strategy: 'manual',
      hasPrestopHook: true,
      hasDcUtil: true,
      dcUtilTimeoutSeconds: 720,
      dcUtilFlagTimeoutSeconds: 720,
      terminationGracePeriodSeconds: null,
      deleteGracePeriodSeconds: 30,
      minAvailability: 'FULL',
      dcUtilWillNotDecommission: true,
      containerName: 'cratedb',
      dcUtilProto: 'https',
      servedScheme: 'http',
      reasons: [
        'CrateDB container: container cratedb runs the CrateDB image registry.example.com/mirror/crate/crate:5.9.7',
        'preStop hook of container cratedb runs dc_util-linux-amd64 -min-availability PRIMARIES -timeout 720s (directly)',
        'terminationGracePeriodSeconds unset, so dc_util uses its -timeout flag: 720s',
        "label dc-util-min-availability=FULL overrides dc_util's -min-availability",
        PROTO_MISMATCH,
        WILL_NOT,
      ],
      // the rule of docs/strategy.md (shared/detect/rules.ts) that wrote each reason
      reasonRules: [
        'crateContainerChoice',
        'dcUtilCommand',
        'effectiveTimeout',
        'minAvailabilityNone',
        'dcUtilProto',
        'dcUtilWillNotDecommission',
      ],
    },
  },
  'dc-util-proto-http.yaml': {
    node1: 'data-hot-1',
    detection: {
      strategy: 'kubernetes_managed',
      hasPrestopHook: true,
      hasDcUtil: true,
      dcUtilTimeoutSeconds: 1080,
      dcUtilFlagTimeoutSeconds: 720,
      terminationGracePeriodSeconds: 1200,
      deleteGracePeriodSeconds: 1200,
      minAvailability: 'PRIMARIES',
      dcUtilWillNotDecommission: false,
      containerName: 'crate',
      dcUtilProto: 'http',
      servedScheme: 'http',
      reasons: [
        'preStop hook of container crate runs dc_util-linux-${ARCH} --min-availability PRIMARIES --timeout 720s --proto http (through a shell)',
        "dc_util posts to http://127.0.0.1:4200 (--proto http), the scheme CrateDB serves (ssl.http.enabled is not set: CrateDB's default)",
        OPERATOR_OR_TRUE,
        'terminationGracePeriodSeconds 1200 != 30, so dc_util uses 1200-120 = 1080s (its own rule), not the 720s flag',
        "pods are deleted with a 1200s grace period (dc_util's 1080s + 60s, raised to the pod's terminationGracePeriodSeconds 1200)",
      ],
      // the rule of docs/strategy.md (shared/detect/rules.ts) that wrote each reason
      reasonRules: ['dcUtilCommand', 'dcUtilProto', 'dcUtilMayFailSilently', 'effectiveTimeout', 'dcUtilDecommissions'],
    },
  },
  'dc-util-disabled.yaml': {
    node1: 'data-hot-1',
    detection: {
      strategy: 'manual',
      hasPrestopHook: true,
      hasDcUtil: true,
      dcUtilTimeoutSeconds: 1080,
      dcUtilFlagTimeoutSeconds: 720,
      terminationGracePeriodSeconds: 1200,
      deleteGracePeriodSeconds: 30,
      minAvailability: 'PRIMARIES',
      dcUtilWillNotDecommission: true,
      containerName: 'crate',
      dcUtilProto: 'https',
      servedScheme: 'http',
      reasons: [
        OPERATOR_CALL,
        OPERATOR_OR_TRUE,
        'terminationGracePeriodSeconds 1200 != 30, so dc_util uses 1200-120 = 1080s (its own rule), not the 720s flag',
        PROTO_MISMATCH,
        'label dc-util-disabled=True: dc_util will skip the decommission',
        WILL_NOT,
      ],
      // the rule of docs/strategy.md (shared/detect/rules.ts) that wrote each reason
      reasonRules: [
        'dcUtilCommand',
        'dcUtilMayFailSilently',
        'effectiveTimeout',
        'dcUtilProto',
        'dcUtilDisabledLabel',
        'dcUtilWillNotDecommission',
      ],
    },
  },
  // No -proto against plain HTTP (was kubernetes_managed).
  'helm-service-and-statefulset.yaml': {
    node1: 'cratedb-1',
    detection: {
      strategy: 'manual',
      hasPrestopHook: true,
      hasDcUtil: true,
      dcUtilTimeoutSeconds: 900,
      dcUtilFlagTimeoutSeconds: 900,
      terminationGracePeriodSeconds: 30,
      deleteGracePeriodSeconds: 30,
      minAvailability: 'PRIMARIES',
      dcUtilWillNotDecommission: true,
      containerName: 'db',
      dcUtilProto: 'https',
      servedScheme: 'http',
      reasons: [
        'CrateDB container: container db runs the CrateDB image crate/crate:6.0.2@sha256:4f1d2c3b4a5968778695a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3',
        'preStop hook of container db runs dc_util --crate-node-prefix=cratedb --min-availability=PRIMARIES --timeout=15m (through a shell)',
        'dc_util ends in "|| true": if any step fails the pod only gets a plain SIGTERM',
        'terminationGracePeriodSeconds 30, so dc_util uses its -timeout flag: 900s',
        PROTO_MISMATCH,
        WILL_NOT,
      ],
      // the rule of docs/strategy.md (shared/detect/rules.ts) that wrote each reason
      reasonRules: [
        'crateContainerChoice',
        'dcUtilCommand',
        'dcUtilMayFailSilently',
        'effectiveTimeout',
        'dcUtilProto',
        'dcUtilWillNotDecommission',
      ],
    },
  },
  'plain-manual.yaml': {
    node1: 'crate-1',
    detection: {
      strategy: 'manual',
      hasPrestopHook: false,
      hasDcUtil: false,
      dcUtilTimeoutSeconds: 0,
      dcUtilFlagTimeoutSeconds: 0,
      terminationGracePeriodSeconds: 60,
      deleteGracePeriodSeconds: 30,
      minAvailability: 'PRIMARIES',
      dcUtilWillNotDecommission: false,
      containerName: 'crate',
      dcUtilProto: null,
      servedScheme: null,
      reasons: ['container crate has no preStop hook: we decommission the node ourselves'],
      // the rule of docs/strategy.md (shared/detect/rules.ts) that wrote each reason
      reasonRules: ['noPreStopHook'],
    },
  },
  'sleep-prestop-single-node.yaml': {
    node1: 'crate-dev-1',
    detection: {
      strategy: 'manual',
      hasPrestopHook: true,
      hasDcUtil: false,
      dcUtilTimeoutSeconds: 0,
      dcUtilFlagTimeoutSeconds: 0,
      terminationGracePeriodSeconds: null,
      deleteGracePeriodSeconds: 30,
      minAvailability: 'PRIMARIES',
      dcUtilWillNotDecommission: false,
      containerName: 'crate',
      dcUtilProto: null,
      servedScheme: null,
      reasons: ['preStop hook of container crate runs sleep, not dc_util: it does not decommission, so we do'],
      // the rule of docs/strategy.md (shared/detect/rules.ts) that wrote each reason
      reasonRules: ['preStopHookWithoutDcUtil'],
    },
  },
};

describe('StatefulSet fixtures', () => {
  it('every fixture file has an expectation', () => {
    expect(fixtureNames()).toEqual(Object.keys(expected).sort());
  });

  it.each(Object.entries(expected))('%s', (file, { detection, node1 }) => {
    const sts = loadStatefulSet(file);
    const result = detectStrategy(sts);
    expect(result).toEqual(detection);
    expect(StrategyDetection.parse(result)).toEqual(result);
    const container = findCrateContainer(sts.spec?.template?.spec?.containers ?? []);
    expect(container?.name).toBe(detection.containerName);
    expect(container && nodeNameFromArgs(container, `${sts.metadata?.name}-1`)).toBe(node1);
  });

  it('the multi-document file also holds a Service and a PodDisruptionBudget', () => {
    expect(loadDocuments('helm-service-and-statefulset.yaml').map((doc) => doc['kind'])).toEqual([
      'Service',
      'StatefulSet',
      'PodDisruptionBudget',
    ]);
  });
});
