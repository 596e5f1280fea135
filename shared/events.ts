// Kubernetes Events for the significant transitions of an operation, on the pod or the StatefulSet (what an SRE reads
// in `kubectl describe` / `kubectl events`). A restarted pod gets three Normal Events - DecommissionStarted (its
// plan), PodDeleted, PodRestarted (back, rejoined, allocation reset, gate passed, with timings) - and every Warning
// and failure on top; the full list is in docs/observability.md ("Kubernetes Events"). Best effort: a failure to
// record an Event is logged at debug level and never fails the operation.
import type { EngineDeps, EventInput } from './ports.js';

export const EventReason = {
  DecommissionStarted: 'DecommissionStarted',
  DecommissionCompleted: 'DecommissionCompleted',
  DecommissionFailed: 'DecommissionFailed',
  PodDeleted: 'PodDeleted',
  /** A restarted pod is back: Ready, its node rejoined, allocation reset, the health gate passed (one Event, timings). */
  PodRestarted: 'PodRestarted',
  /** A decommissioned pod (decommission, not restart) is back: Ready and its node rejoined. */
  NodeRejoined: 'NodeRejoined',
  HealthGateBlocked: 'HealthGateBlocked',
  /** The pre-flight failed, explained by unready pods whose node is not in the cluster: only they go first. */
  PreflightDegraded: 'PreflightDegraded',
  /** Allocation reset outside a pod's PodRestarted: on an exit path, after a failed gate, or dc_util's leftover. */
  AllocationReset: 'AllocationReset',
  RolloutStarted: 'RolloutStarted',
  RolloutSucceeded: 'RolloutSucceeded',
  RolloutFailed: 'RolloutFailed',
  PodRestartSkipped: 'PodRestartSkipped',
  /** A wait (drain, exit, termination, Ready, rejoin, health gate) passed a minute: once per wait, with its state. */
  WaitingLong: 'WaitingLong',
  /** The engine stopped a node whose drain was done and that stayed idle (shared/stall.ts). */
  StallBroken: 'StallBroken',
  /** dc-util-min-availability=NONE set for a restart without relocation (kubernetes_managed), and put back. */
  MinAvailabilityLabelSet: 'MinAvailabilityLabelSet',
  MinAvailabilityLabelRestored: 'MinAvailabilityLabelRestored',
} as const;
export type EventReason = (typeof EventReason)[keyof typeof EventReason];

export interface EventSubject {
  kind: 'Pod' | 'StatefulSet';
  name: string;
  namespace: string;
  uid?: string | null;
}

export async function emitEvent(
  deps: Pick<EngineDeps, 'kube' | 'log'>,
  target: EventSubject,
  reason: EventReason,
  message: string,
  opts: { type?: 'Normal' | 'Warning'; action?: string } = {},
): Promise<void> {
  const event: EventInput = {
    involvedObject: {
      kind: target.kind,
      name: target.name,
      namespace: target.namespace,
      apiVersion: target.kind === 'Pod' ? 'v1' : 'apps/v1',
      ...(target.uid ? { uid: target.uid } : {}),
    },
    type: opts.type ?? 'Normal',
    reason,
    message: message.length > 1000 ? `${message.slice(0, 997)}...` : message,
    action: opts.action ?? 'Decommission',
  };
  try {
    await deps.kube.createEvent(target.namespace, event);
  } catch (err) {
    deps.log.debug(
      `Could not record Event ${reason} on ${target.kind} ${target.name}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}
