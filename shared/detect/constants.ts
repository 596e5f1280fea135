// dc_util's constants (crate-operator utils/dc_util/dc_util.go) and the Kubernetes defaults it relies on.

export const DC_UTIL_DEFAULT_TIMEOUT = '7200s';
export const DC_UTIL_DEFAULT_MIN_AVAILABILITY = 'FULL';
export const DC_UTIL_DEFAULT_NODE_PREFIX = 'data-hot';
/** dc_util's -proto default: it always posts to <proto>://127.0.0.1:4200/_sql. */
export const DC_UTIL_DEFAULT_PROTO = 'https';
/** The Kubernetes default grace period; dc_util treats it (and unset) as "use the -timeout flag". */
export const KUBERNETES_DEFAULT_GRACE_SECONDS = 30;
export const DC_UTIL_GRACE_BUFFER_SECONDS = 120;
export const DC_UTIL_MIN_TIMEOUT_SECONDS = 360;
/** Margin added to dc_util's effective timeout for the pod deletion grace period. */
export const DELETE_GRACE_MARGIN_SECONDS = 60;
/** Grace period used to delete a pod whose CrateDB process has already exited (manual strategy). */
export const MANUAL_DELETE_GRACE_SECONDS = 30;

export const LABEL_DC_UTIL_DISABLED = 'dc-util-disabled';
export const LABEL_DC_UTIL_MIN_AVAILABILITY = 'dc-util-min-availability';
