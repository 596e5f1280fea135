// Where the manual strategy (ALTER CLUSTER DECOMMISSION, wait for the exit, delete) goes on with a pod: a pure
// decision from what the Lease progress says the earlier run did and what the cluster says now. decommission.ts
// gathers the observations the decision asks for and executes the step it returns (docs/engine.md, Lock and resume).
import type { ProgressStep } from './lease.js';

/** What decides the next step of the manual strategy for one pod. */
export interface ManualResumeState {
  /** This pod's progress left by an earlier run of the same operation (null: a fresh start). */
  progress: { step: ProgressStep; oldUid: string } | null;
  /** The pod as it is now. */
  pod: { uid: string; deleting: boolean };
  /** The container exited since the recorded snapshot (read from the pod object; wording only). */
  exitedSinceRecorded: boolean;
  /** Does the node answer `SELECT 1` itself (so it is not draining)? undefined: not asked yet. */
  nodeAnswers?: boolean;
  /** Is the node in sys.nodes (asked through another node; unknown counts as yes)? undefined: not asked yet. */
  nodeInCluster?: boolean;
}

/** Why a resumed run drains a node an earlier run had already gone past the start with. */
export type RedrainReason =
  /** Progress says the DECOMMISSION was sent, but the node answers SQL and has not exited: it never got it. */
  | 'not-draining'
  /** Progress says the DECOMMISSION was sent; the node exited, restarted in place and answers again. */
  | 'restarted-in-place'
  /** Progress says deleting; the delete never went out and the container restarted in place, answering again. */
  | 'restarted-before-delete';

export type ManualStep =
  /** An observation the decision needs first; ask it, put the answer in the state and decide again. */
  | { kind: 'observe'; what: 'nodeAnswers' | 'nodeInCluster' }
  /** The pod was already deleted and re-created by an earlier run: only record it as deleted. */
  | { kind: 'recorded-recreated' }
  /** The node is not in the cluster: nothing to drain, the pod is only deleted. */
  | { kind: 'delete-only'; redrain: RedrainReason | null }
  /** Send the drain (allocation, graceful_stop, DECOMMISSION), wait for the exit, delete the pod. */
  | { kind: 'drain'; redrain: RedrainReason | null }
  /** The node is draining after the earlier run's DECOMMISSION: wait for the exit, delete the pod. */
  | { kind: 'follow-drain' }
  /** The earlier run decided to delete: delete unless the pod is already deleting, then wait for it to go. */
  | { kind: 'follow-delete'; sendDelete: boolean };

/** The next step of the manual strategy for one pod (pure: the same state gives the same step). */
export function nextManualStep(s: ManualResumeState): ManualStep {
  const { progress, pod } = s;
  if (progress && pod.uid !== progress.oldUid) return { kind: 'recorded-recreated' };
  let redrain: RedrainReason | null = null;
  if (progress?.step === 'decommission-sent') {
    if (s.nodeAnswers === undefined) return { kind: 'observe', what: 'nodeAnswers' };
    // A node that does not answer is draining: followed, never sent a second DECOMMISSION.
    if (!s.nodeAnswers) return { kind: 'follow-drain' };
    redrain = s.exitedSinceRecorded ? 'restarted-in-place' : 'not-draining';
  } else if (progress?.step === 'deleting' && !pod.deleting) {
    if (s.nodeAnswers === undefined) return { kind: 'observe', what: 'nodeAnswers' };
    // A fresh process that may hold shards: drained again, never deleted as a full member.
    if (s.nodeAnswers) redrain = 'restarted-before-delete';
  }
  if (s.nodeInCluster === undefined) return { kind: 'observe', what: 'nodeInCluster' };
  if (!s.nodeInCluster) return { kind: 'delete-only', redrain };
  if (progress?.step === 'deleting' && redrain === null) return { kind: 'follow-delete', sendDelete: !pod.deleting };
  return { kind: 'drain', redrain };
}
