// The runner's RBAC: least privilege, derived from the engine's KubernetesPort (shared/ports.ts); namespaced (Role +
// RoleBinding) or cluster-wide (ClusterRole + ClusterRoleBinding), with the ServiceAccount.
import type {
  V1ClusterRole,
  V1ClusterRoleBinding,
  V1PolicyRule,
  V1Role,
  V1RoleBinding,
  V1ServiceAccount,
} from '@kubernetes/client-node';
import { APP_NAME, COMMON_LABELS, DEFAULT_SERVICE_ACCOUNT, LABEL_COMPONENT } from './constants.js';

/**
 * Exactly what the engine does to Kubernetes (KubernetesPort in shared/ports.ts), no more:
 * pods get/list/watch/delete; pods/exec create (+ get: websocket upgrades are GETs);
 * statefulsets get/list/patch (labels); cratedbs get; secrets get (system user credentials, CA);
 * leases get/create/update (the single-writer lock; released by an update, never deleted); events create
 * (events.k8s.io, core/v1 on servers without it). test/unit/objects/rbac-verbs.test.ts checks these rules against the
 * requests the code really sends (a recording port in representative scenarios, the real adapter over a recording API).
 */
export function runnerPolicyRules(): V1PolicyRule[] {
  return [
    { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'delete'] },
    { apiGroups: [''], resources: ['pods/exec'], verbs: ['create', 'get'] },
    { apiGroups: ['apps'], resources: ['statefulsets'], verbs: ['get', 'list', 'patch'] },
    { apiGroups: ['cloud.crate.io'], resources: ['cratedbs'], verbs: ['get'] },
    { apiGroups: [''], resources: ['secrets'], verbs: ['get'] },
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
    { apiGroups: [''], resources: ['events'], verbs: ['create'] },
    { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create'] },
  ];
}

export interface RbacOptions {
  /** Namespace of the ServiceAccount (and of the Role/RoleBinding when namespaced). */
  namespace: string;
  serviceAccountName?: string;
  /** ClusterRole + ClusterRoleBinding instead of Role + RoleBinding: one runner for many namespaces. */
  clusterWide?: boolean;
  labels?: Record<string, string>;
}

export interface NamespacedRbac {
  clusterWide: false;
  serviceAccount: V1ServiceAccount;
  role: V1Role;
  roleBinding: V1RoleBinding;
}
export interface ClusterRbac {
  clusterWide: true;
  serviceAccount: V1ServiceAccount;
  clusterRole: V1ClusterRole;
  clusterRoleBinding: V1ClusterRoleBinding;
}
export type Rbac = NamespacedRbac | ClusterRbac;

export function buildRbac(opts: RbacOptions & { clusterWide: true }): ClusterRbac;
export function buildRbac(opts: RbacOptions & { clusterWide?: false }): NamespacedRbac;
export function buildRbac(opts: RbacOptions): Rbac;
export function buildRbac(opts: RbacOptions): Rbac {
  const { namespace } = opts;
  const saName = opts.serviceAccountName ?? DEFAULT_SERVICE_ACCOUNT;
  const labels = { ...(opts.labels ?? {}), ...COMMON_LABELS, [LABEL_COMPONENT]: 'rbac' };
  const rules = runnerPolicyRules();
  const serviceAccount: V1ServiceAccount = {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: saName, namespace, labels: { ...labels } },
  };
  const subjects = [{ kind: 'ServiceAccount', name: saName, namespace }];
  if (opts.clusterWide) {
    // Cluster-scoped names must be unique per (namespace, SA) binding; the role itself is shared.
    const clusterRoleName = APP_NAME;
    return {
      clusterWide: true,
      serviceAccount,
      clusterRole: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: clusterRoleName, labels: { ...labels } },
        rules,
      },
      clusterRoleBinding: {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: `${APP_NAME}-${namespace}-${saName}`.slice(0, 253), labels: { ...labels } },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterRoleName },
        subjects,
      },
    };
  }
  return {
    clusterWide: false,
    serviceAccount,
    role: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: saName, namespace, labels: { ...labels } },
      rules,
    },
    roleBinding: {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: saName, namespace, labels: { ...labels } },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: saName },
      subjects,
    },
  };
}

/** The RBAC objects in apply order (ServiceAccount, role, binding). */
export function rbacObjects(
  rbac: Rbac,
): Array<V1ServiceAccount | V1Role | V1RoleBinding | V1ClusterRole | V1ClusterRoleBinding> {
  return rbac.clusterWide
    ? [rbac.serviceAccount, rbac.clusterRole, rbac.clusterRoleBinding]
    : [rbac.serviceAccount, rbac.role, rbac.roleBinding];
}
