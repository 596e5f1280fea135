// The workflows a worker registers (the bundle's entry: workflowsPath / bundleWorkflowCode).
export { clusterMaintenanceWorkflow, clusterProgressQuery } from './cluster.js';
export { fleetMaintenanceWorkflow, fleetProgressQuery, pauseSignal, resumeSignal } from './fleet.js';
