// The front-end contract (docs/architecture.md): what the plugin and the runner share, and the only way into
// shared/task/ for them. Light at start-up: it never loads the engine (shared/index.ts, loaded by loadEngine) nor the
// adapters (client-node, undici).
export * from './exit.js';
export * from './flag-values.js';
export * from './task.js';
export * from './target.js';
export * from './operation-flags.js';
export * from './parse-task.js';
export * from './deadline.js';
export * from './runner-args.js';
export * from './engine.js';
export * from './outcome.js';
export * from './metrics-run.js';
export * from './interrupt.js';
export * from './version.js';
// The engine's error classes and names the front ends classify and validate with before the engine loads.
export * from '../errors.js';
export { Dns1123Subdomain } from '../schemas.js';
// From the publisher, not metrics-wiring.ts: nothing here may load prom-client at start-up (the single executable's
// startup snapshot cannot hold it; --help never needs it).
export { ENV_PUSHGATEWAY_JOB } from '../metrics-push.js';
export { formatBytes } from '../bytes.js';
export { LABEL_MANAGED_BY, MANAGED_BY } from '../labels.js';
