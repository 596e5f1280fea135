// Public API of the engine. Front ends (plugin, runner) import from here only.
export * from './errors.js';
export * from './schemas.js';
export type * from './ports.js';
export {
  detectStrategy,
  detectPodStrategy,
  parseGoDuration,
  findCrateContainer,
  nodeNameFromArgs,
} from './detect/index.js';
export { analyzeCluster } from './discovery.js';
export { checkClusterHealth, HealthCheckName } from './health.js';
export { decommissionPod, MANUAL_DELETE_GRACE_SECONDS, MANUAL_TIMEOUT_MARGIN_SECONDS } from './decommission.js';
export { restartPod } from './restart.js';
export { rollingRestart, planRollingRestart, orderPods } from './rolling.js';
export { ClusterLease, leaseName, ANNOTATION_OPERATION, ANNOTATION_PROGRESS, DEFAULT_LEASE_SECONDS } from './lease.js';
export type { OperationProgress, PodProgress, ProgressStep } from './lease.js';
export { LABEL_ROUTING_OWNER } from './operation.js';
export { SQL } from './cluster-sql.js';
export { emitEvent, EventReason } from './events.js';
export { createLogger, redactText, redactFields, withFields } from './log.js';
export type { LogFormat, LoggerOptions } from './log.js';
export { systemClock } from './clock.js';
export { waitForPod, pollUntil } from './wait.js';
