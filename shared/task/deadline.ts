// The Job's deadline (activeDeadlineSeconds) for a Task: an upper bound of the run's duration.
import type { Task } from './task.js';

/** What the Job's deadline budgets: how many pods, and each pod's delete grace period where dc_util drains it. */
export interface DeadlineBudget {
  pods: number;
  /**
   * The delete grace period (dc_util's effective timeout + 60 s) of each budgeted pod whose own spec makes it
   * kubernetes_managed; a pod not listed is budgeted as manual. Longest first when fewer than `pods` are known.
   */
  deleteGraceSeconds?: readonly number[];
}

/**
 * An upper bound of the run's duration in seconds (Job activeDeadlineSeconds): every pod may take every timeout
 * of its own strategy. A manual pod drains for at most the graceful-stop timeout and is then deleted with grace
 * 30 s; a kubernetes_managed pod is deleted with its delete grace period (dc_util's timeout + 60 s, 7230 s for
 * crate-operator's default), during which dc_util drains it. Then the re-created pod's Ready, the rejoin and the
 * health gate. A deadline shorter than a correct drain would kill the runner mid-operation.
 */
export function deadlineSecondsFor(task: Task, budget: DeadlineBudget | number): number {
  const o = task.options;
  const slackSeconds = 300;
  const { pods, deleteGraceSeconds = [] } = typeof budget === 'number' ? { pods: budget } : budget;
  const manualStopSeconds = o.decommissionTimeout + 30;
  const stopSecondsOf = (i: number): number => Math.max(manualStopSeconds, deleteGraceSeconds[i] ?? 0);
  const perPodSeconds = (i: number): number => stopSecondsOf(i) + o.podReadyTimeout + o.healthTimeout + 60;
  switch (task.operation) {
    case 'health':
    case 'plan':
      return o.healthTimeout + slackSeconds;
    case 'decommission':
      return stopSecondsOf(0) + o.podReadyTimeout + o.healthTimeout + slackSeconds;
    case 'restart':
      return perPodSeconds(0) + slackSeconds;
    case 'rollout': {
      let totalSeconds = o.healthTimeout + slackSeconds;
      for (let i = 0; i < Math.max(1, pods); i++) totalSeconds += perPodSeconds(i);
      return totalSeconds;
    }
  }
}
