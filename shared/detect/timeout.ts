// The timeout rule: dc_util's effective decommission timeout (its calculateEffectiveTimeout) and the delete grace period.
import {
  DC_UTIL_GRACE_BUFFER_SECONDS,
  DC_UTIL_MIN_TIMEOUT_SECONDS,
  DELETE_GRACE_MARGIN_SECONDS,
  KUBERNETES_DEFAULT_GRACE_SECONDS,
} from './constants.js';

/** dc_util's effective decommission timeout: the flag when the grace period is unset or 30, else grace - 120 (>= 360). */
export function effectiveDcUtilTimeoutSeconds(
  flagTimeoutSeconds: number,
  terminationGracePeriodSeconds: number | null,
): number {
  if (terminationGracePeriodSeconds === null || terminationGracePeriodSeconds === KUBERNETES_DEFAULT_GRACE_SECONDS) {
    return flagTimeoutSeconds;
  }
  return Math.max(terminationGracePeriodSeconds - DC_UTIL_GRACE_BUFFER_SECONDS, DC_UTIL_MIN_TIMEOUT_SECONDS);
}

/** Grace period for deleting a pod whose preStop runs dc_util: effective + 60, never below the pod's own. */
export function kubernetesManagedDeleteGraceSeconds(
  effectiveTimeoutSeconds: number,
  terminationGracePeriodSeconds: number | null,
): number {
  return Math.max(
    effectiveTimeoutSeconds + DELETE_GRACE_MARGIN_SECONDS,
    terminationGracePeriodSeconds ?? KUBERNETES_DEFAULT_GRACE_SECONDS,
  );
}
