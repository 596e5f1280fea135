// Creating the runner Job of a Task: the prerequisites (may the user create Jobs, is the runner's RBAC installed),
// the Job's name and labels, the Job itself.
import type { V1Job, V1ServiceAccount } from '@kubernetes/client-node';
import { BadInputError, KubeApiError, deadlineSecondsFor, runnerArgsFor, type Task } from '../../shared/task/index.js';
import { APP_NAME, DEFAULT_SERVICE_ACCOUNT, buildRunnerJob } from '../objects.js';
import type { PluginKube } from '../../shared/adapters/index.js';
import type { ResolvedTarget } from './target.js';

export const LABEL_CLUSTER = 'crate-decommission.crate.io/cluster';
export const LABEL_OPERATION = 'crate-decommission.crate.io/operation';
/**
 * May the user create the Job, and is the runner's RBAC installed? Problems are BadInputError (exit 2)
 * saying what to run.
 */
export async function checkJobPrerequisites(
  kube: PluginKube,
  namespace: string,
  serviceAccountName = DEFAULT_SERVICE_ACCOUNT,
): Promise<string[]> {
  const warnings: string[] = [];
  const review = await kube.canI({ namespace, verb: 'create', group: 'batch', resource: 'jobs' });
  if (!review.allowed) {
    throw new BadInputError(
      `you may not create jobs.batch in namespace ${namespace}${review.reason ? ` (${review.reason})` : ''}. ` +
        'Ask for that permission, or run the engine from here with --local',
    );
  }
  const sa = await kube.get<V1ServiceAccount>({
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    namespace,
    name: serviceAccountName,
  });
  if (!sa) {
    throw new BadInputError(
      `the runner's ServiceAccount ${namespace}/${serviceAccountName} does not exist. run: kubectl crate-decommission rbac install -n ${namespace}`,
    );
  }
  // The binding may live as a RoleBinding or (rbac install --cluster-wide) a ClusterRoleBinding.
  try {
    const rb = await kube.get({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      namespace,
      name: serviceAccountName,
    });
    if (!rb) {
      const crb = await kube.get({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        name: `${APP_NAME}-${namespace}-${serviceAccountName}`,
      });
      if (!crb) {
        throw new BadInputError(
          `the runner's RoleBinding ${namespace}/${serviceAccountName} does not exist. run: kubectl crate-decommission rbac install -n ${namespace}`,
        );
      }
    }
  } catch (err) {
    if (err instanceof KubeApiError && err.statusCode === 403) {
      warnings.push(`cannot read the runner's RoleBinding in ${namespace} (forbidden); assuming rbac install was run`);
    } else {
      throw err;
    }
  }
  return warnings;
}

/** crate-decommission-<op>-<cluster>-<suffix>, at most 63 characters (it becomes a label value). */
function jobNameFor(operation: string, cluster: string, suffix: string): string {
  const head = `${APP_NAME}-${operation}-`;
  const room = 63 - head.length - suffix.length - 1;
  const clusterPart = cluster.slice(0, Math.max(1, room)).replace(/[-.]+$/, '');
  return `${head}${clusterPart}-${suffix}`;
}

export interface JobOptions {
  image?: string | undefined;
  serviceAccountName?: string;
  suffix: string;
  /** Default: the runner Job's 24 h. */
  ttlSecondsAfterFinished?: number;
}

/** The runner Job for a Task (the runner gets --operation-id = the Job name so a retried pod resumes). */
export function buildJobForTask(task: Task, target: ResolvedTarget, opts: JobOptions): V1Job {
  const name = jobNameFor(task.operation, target.cluster, opts.suffix);
  const withId: Task = { ...task, operationId: task.operationId ?? name };
  return buildRunnerJob({
    namespace: task.namespace,
    name,
    args: runnerArgsFor(withId),
    labels: { [LABEL_CLUSTER]: target.cluster.slice(0, 63), [LABEL_OPERATION]: task.operation },
    activeDeadlineSeconds: deadlineSecondsFor(task, target),
    ...(opts.image ? { image: opts.image } : {}),
    ...(opts.serviceAccountName ? { serviceAccountName: opts.serviceAccountName } : {}),
    ...(opts.ttlSecondsAfterFinished !== undefined ? { ttlSecondsAfterFinished: opts.ttlSecondsAfterFinished } : {}),
  });
}
