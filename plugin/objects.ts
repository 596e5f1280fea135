// Pure builders for the Kubernetes objects the plugin creates and that manifests/ is generated from:
// the runner's RBAC (least privilege, derived from shared/ports.ts), the runner Job, the scheduled
// CronJob and the NetworkPolicies that let the runner reach CrateDB. No I/O here: every function
// returns fresh, typed objects so tests can check fields and `--dry-run -o yaml` can print them.
// One file per object kind; this entry is what the plugin, scripts/ and the tests import.
export * from './objects/constants.js';
export * from './objects/rbac.js';
export * from './objects/runner-job.js';
export * from './objects/cronjob.js';
export * from './objects/network-policy.js';
