// Per pod: the pod's own spec decides (updateStrategy OnDelete keeps running pods on their old spec).
import type { V1PodSpec, V1Pod, V1StatefulSet } from '@kubernetes/client-node';
import type { Logger } from '../ports.js';
import type { StatefulSetInfo, StrategyDetection } from '../schemas.js';
import { findCrateContainer } from './container.js';
import type { HttpScheme } from './scheme.js';
import { detectStrategy } from './strategy.js';

/** A StatefulSet as far as dc_util reads it (name, labels, replicas, the template's grace), from discovery's StatefulSetInfo. */
function statefulSetOfInfo(info: StatefulSetInfo): V1StatefulSet {
  const graceSeconds = info.detection.terminationGracePeriodSeconds;
  return {
    metadata: { name: info.name, labels: { ...info.labels } },
    spec: {
      replicas: info.replicas,
      selector: {},
      serviceName: '',
      template: {
        spec: { containers: [], ...(graceSeconds === null ? {} : { terminationGracePeriodSeconds: graceSeconds }) },
      },
    },
  };
}

function outcomeOf(d: StrategyDetection): string {
  if (d.strategy !== 'kubernetes_managed') return d.strategy;
  return `kubernetes_managed (dc_util timeout ${d.dcUtilTimeoutSeconds}s, delete grace ${d.deleteGracePeriodSeconds}s, min_availability ${d.minAvailability})`;
}

function crateSpecOf(spec: V1PodSpec | undefined): string {
  const c = findCrateContainer(spec?.containers ?? []);
  return JSON.stringify([
    c?.name,
    c?.lifecycle?.preStop ?? null,
    c?.command ?? null,
    c?.args ?? null,
    spec?.terminationGracePeriodSeconds ?? null,
  ]);
}

/**
 * Detect one pod's strategy from its own spec; the StatefulSet gives labels, replicas and the template's grace period
 * (what dc_util reads). When the pod and the template disagree, the last reason says so: the engine acts on the pod.
 * `sts` is the StatefulSet itself (discovery: the template's spec is compared too) or discovery's StatefulSetInfo
 * (the engine, on the live pod: the outcomes are compared).
 */
export function detectPodStrategy(
  sts: V1StatefulSet | StatefulSetInfo,
  pod: V1Pod,
  options: { servedScheme?: HttpScheme | null } = {},
): StrategyDetection & { templateDisagrees: boolean } {
  const info = 'detection' in sts ? sts : null;
  const full: V1StatefulSet = info ? statefulSetOfInfo(info) : (sts as V1StatefulSet);
  const servedScheme = options.servedScheme ?? info?.detection.servedScheme ?? null;
  const template = info ? info.detection : detectStrategy(full, { servedScheme });
  const own = detectStrategy(full, { pod, servedScheme });
  const podName = pod.metadata?.name ?? '?';
  const outcomeDiffers =
    own.strategy !== template.strategy ||
    (own.strategy === 'kubernetes_managed' &&
      (own.dcUtilTimeoutSeconds !== template.dcUtilTimeoutSeconds ||
        own.deleteGracePeriodSeconds !== template.deleteGracePeriodSeconds ||
        own.minAvailability !== template.minAvailability));
  const specDiffers = !info && crateSpecOf(pod.spec) !== crateSpecOf(full.spec?.template?.spec);
  const say = (text: string): void => {
    own.reasons.push(text);
    own.reasonRules?.push('detectPodStrategy');
  };
  if (outcomeDiffers) {
    say(
      `pod ${podName} and the StatefulSet template disagree (the pod keeps the spec it was created with): the template says ${outcomeOf(template)}, the pod's own spec says ${outcomeOf(own)}; acting on the pod`,
    );
  } else if (specDiffers) {
    say(
      `pod ${podName}'s CrateDB container (preStop, args or grace period) differs from the StatefulSet template, with the same outcome: ${outcomeOf(own)}`,
    );
  }
  return { ...own, templateDisagrees: outcomeDiffers };
}

/**
 * The StatefulSetInfo the engine acts with for one live pod: its detection replaced by the pod's own (the template
 * only gives labels, replicas and its grace period). A disagreement with the template is logged as a warning.
 */
export function podStrategyOf(sts: StatefulSetInfo, pod: V1Pod, log?: Logger): StatefulSetInfo {
  if (!pod.spec) return sts;
  const { templateDisagrees, ...detection } = detectPodStrategy(sts, pod);
  if (templateDisagrees) {
    log?.warn(`Pod ${pod.metadata?.name ?? '?'}: ${detection.reasons[detection.reasons.length - 1]}`, {
      strategy: detection.strategy,
      reasons: detection.reasons,
    });
  }
  return { ...sts, detection };
}
