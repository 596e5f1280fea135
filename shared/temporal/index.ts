// Durable rollouts on Temporal, as the plugin sees them: the client (rollout --temporal) and the workflow contracts.
// The worker (the plugin's `worker` command) is its own entry, shared/temporal/worker.ts, so that a rollout never
// loads the worker SDK.
export * from './client.js';
export * from './contracts.js';
