// What the detection rules read: the StatefulSet (and pod) as data, and what dc_util would compute from it. Pure;
// the rules (rules.ts) turn these facts into decisions and sentences.
import type { V1Container, V1LifecycleHandler, V1Pod, V1StatefulSet } from '@kubernetes/client-node';
import {
  DC_UTIL_DEFAULT_MIN_AVAILABILITY,
  DC_UTIL_DEFAULT_PROTO,
  DC_UTIL_DEFAULT_TIMEOUT,
  KUBERNETES_DEFAULT_GRACE_SECONDS,
  LABEL_DC_UTIL_MIN_AVAILABILITY,
} from './constants.js';
import { findCrateContainer } from './container.js';
import { parseGoDuration } from './duration.js';
import { parseDcUtilFlags, type DcUtilFlags } from './flags.js';
import { scanPreStopCommand, type DcUtilCall, type PreStopScan } from './prestop.js';
import { servedSchemeFromManifest, type HttpScheme, type ManifestScheme } from './scheme.js';
import { effectiveDcUtilTimeoutSeconds } from './timeout.js';
import { withoutOwnNoneLabel } from '../min-availability-label.js';

const MIN_AVAILABILITY_VALUES = ['NONE', 'PRIMARIES', 'FULL'] as const;
export type MinAvailabilityValue = (typeof MIN_AVAILABILITY_VALUES)[number];

export function asMinAvailability(text: string): MinAvailabilityValue | null {
  const upper = text.toUpperCase();
  return (MIN_AVAILABILITY_VALUES as readonly string[]).includes(upper) ? (upper as MinAvailabilityValue) : null;
}

export interface DetectOptions {
  /**
   * Detect for this pod, from its own spec: the CrateDB container's lifecycle and args, and its grace period (a
   * pod keeps its spec under updateStrategy OnDelete). The StatefulSet still gives what dc_util reads from it:
   * labels, replicas and the template's terminationGracePeriodSeconds.
   */
  pod?: V1Pod | null;
  /** The scheme the engine really reached CrateDB's port 4200 with (discovery); wins over the manifest. */
  servedScheme?: HttpScheme | null;
}

/** dc_util's flag as it will be used: the text (default when unset; null when it cannot be computed). */
function flagText(flags: DcUtilFlags, name: string, fallback: string): string | null {
  return flags.values.has(name) ? (flags.values.get(name) ?? null) : fallback;
}

/** What dc_util computes from its command line, the StatefulSet's labels and the template's grace period. */
export interface DcUtilFacts {
  call: DcUtilCall;
  flags: DcUtilFlags;
  /** -proto as written (default https); null when not computable. */
  protoText: string | null;
  /** -proto when it is http or https (any case). */
  dcUtilProto: HttpScheme | null;
  /** -timeout as written (default 7200s); null when not computable. */
  timeoutText: string | null;
  /** The -timeout flag in whole seconds (the default when not computable, 0 when invalid). */
  flagTimeoutSeconds: number;
  /** The -timeout text is a valid, non-negative Go duration. */
  timeoutValid: boolean;
  /** The grace period is unset or 30: dc_util uses its -timeout flag. */
  usesFlag: boolean;
  /** dc_util's effective decommission timeout (its calculateEffectiveTimeout). */
  effectiveTimeoutSeconds: number;
  /** -min-availability as written (default FULL); null when not computable. */
  minText: string | null;
  /** The dc-util-min-availability label, when it is exactly NONE, PRIMARIES or FULL (it then wins over the flag). */
  minLabel: MinAvailabilityValue | null;
  /** The effective min_availability. */
  minAvailability: MinAvailabilityValue;
}

export interface DetectFacts {
  sts: V1StatefulSet;
  pod: V1Pod | null;
  /** The StatefulSet's labels, the tool's own marked dc-util-min-availability=NONE replaced by the value before. */
  labels: Record<string, string>;
  /** Why the labels differ from the StatefulSet's (the tool's own NONE, issue 9 item 1); null when they do not. */
  ownNoneNote: string | null;
  replicas: number;
  /** The pod template's grace period: dc_util reads it (its one GET), not the pod's. */
  graceSeconds: number | null;
  /** The grace period the delete must not cut short: the pod's own when detecting a pod. */
  podGraceSeconds: number | null;
  /** The pod dc_util runs in (the pod, or the StatefulSet's pod 0). */
  samplePod: string | null;
  containers: V1Container[];
  container: V1Container | null;
  manifestScheme: ManifestScheme;
  /** The scheme CrateDB serves: discovery's when given, else the manifest's. */
  served: HttpScheme | null;
  servedReason: string;
  preStop: V1LifecycleHandler | null;
  /** The preStop exec command ([] when not an exec). */
  command: string[];
  scan: PreStopScan | null;
  /** The dc_util call that decides: the first one not in --reset-routing mode. */
  dcUtil: DcUtilFacts | null;
}

function servedReasonOf(options: DetectOptions, manifest: ManifestScheme): string {
  if (options.servedScheme == null) return manifest.reason;
  const differs =
    manifest.scheme !== options.servedScheme
      ? `; the manifest: ${manifest.scheme ?? 'cannot tell'}, ${manifest.reason}`
      : '';
  return `the engine reached it over ${options.servedScheme} at discovery${differs}`;
}

function dcUtilFactsOf(call: DcUtilCall, labels: Record<string, string>, graceSeconds: number | null): DcUtilFacts {
  const flags = parseDcUtilFlags(call.args);
  const protoText = flagText(flags, 'proto', DC_UTIL_DEFAULT_PROTO);
  const lower = protoText?.toLowerCase() ?? null;
  const timeoutText = flagText(flags, 'timeout', DC_UTIL_DEFAULT_TIMEOUT);
  const parsed = timeoutText === null ? null : parseGoDuration(timeoutText);
  const timeoutValid = parsed !== null && parsed >= 0;
  const flagTimeoutSeconds =
    timeoutText === null ? (parseGoDuration(DC_UTIL_DEFAULT_TIMEOUT) ?? 7200) : timeoutValid ? parsed : 0;
  const labelText = labels[LABEL_DC_UTIL_MIN_AVAILABILITY];
  // dc_util compares the label case-sensitively; a flag value in any case is upper-cased, and one CrateDB does
  // not know is read as none.
  const minLabel =
    labelText !== undefined && (MIN_AVAILABILITY_VALUES as readonly string[]).includes(labelText)
      ? (labelText as MinAvailabilityValue)
      : null;
  const minText = flagText(flags, 'min-availability', DC_UTIL_DEFAULT_MIN_AVAILABILITY);
  const minAvailability =
    minLabel ?? (minText === null ? DC_UTIL_DEFAULT_MIN_AVAILABILITY : (asMinAvailability(minText) ?? 'NONE'));
  return {
    call,
    flags,
    protoText,
    dcUtilProto: lower === 'http' || lower === 'https' ? lower : null,
    timeoutText,
    flagTimeoutSeconds,
    timeoutValid,
    usesFlag: graceSeconds === null || graceSeconds === KUBERNETES_DEFAULT_GRACE_SECONDS,
    effectiveTimeoutSeconds: effectiveDcUtilTimeoutSeconds(flagTimeoutSeconds, graceSeconds),
    minText,
    minLabel,
    minAvailability,
  };
}

/** Read everything the rules need from a StatefulSet (and, for a pod's detection, the pod). */
export function detectFacts(sts: V1StatefulSet, options: DetectOptions = {}): DetectFacts {
  const pod = options.pod ?? null;
  const templateSpec = sts.spec?.template?.spec;
  const podSpec = pod?.spec ?? templateSpec;
  const graceSeconds = templateSpec?.terminationGracePeriodSeconds ?? null;
  // The tool's own dc-util-min-availability=NONE (a restart without relocation, marked) is intended: detect with
  // the value before (issue 9 item 1); a user's NONE stays rule 18's misconfiguration.
  const ownNone = withoutOwnNoneLabel(sts.metadata?.labels ?? {});
  const labels = ownNone.labels;
  const stsName = sts.metadata?.name ?? null;
  const samplePod = pod?.metadata?.name ?? (stsName === null ? null : `${stsName}-0`);
  const containers = podSpec?.containers ?? [];
  const container = findCrateContainer(containers);
  const manifestScheme = servedSchemeFromManifest(container);
  const preStop = container?.lifecycle?.preStop ?? null;
  const command = preStop?.exec?.command ?? [];
  const scan = container && command.length > 0 ? scanPreStopCommand(command, container, samplePod) : null;
  const call = scan?.calls.find((c) => parseDcUtilFlags(c.args).values.get('reset-routing') !== 'true') ?? null;
  return {
    sts,
    pod,
    labels,
    ownNoneNote: ownNone.note,
    replicas: sts.spec?.replicas ?? 1,
    graceSeconds,
    podGraceSeconds: pod ? (pod.spec?.terminationGracePeriodSeconds ?? graceSeconds) : graceSeconds,
    samplePod,
    containers,
    container,
    manifestScheme,
    served: options.servedScheme ?? manifestScheme.scheme,
    servedReason: servedReasonOf(options, manifestScheme),
    preStop,
    command,
    scan,
    dcUtil: call ? dcUtilFactsOf(call, labels, graceSeconds) : null,
  };
}
