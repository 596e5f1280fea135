// The labels every object this project creates carries (the plugin's Jobs, CronJobs, RBAC, NetworkPolicy and the
// engine's Lease): one `app.kubernetes.io/managed-by` value for all of them.

export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
/**
 * The managed-by value. Lease objects written before this was one value carry `crate-decommission`; nothing selects
 * or reads by this label (Jobs and pods are selected by `app.kubernetes.io/name`), so such a Lease works as it is.
 */
export const MANAGED_BY = 'kubectl-crate-decommission';
