// The real adapters (client-node, undici): the only modules that use those libraries at run time. Front ends import
// them from here, lazily (import()), when a command needs the cluster; `import type` of the port types is free.
export * from './kubeconfig.js';
export * from './kube.js';
export * from './pod-cache.js';
export * from './sql-factory.js';
export * from './plugin-kube.js';
export { toYaml } from './k8s-yaml.js';
export { systemClock } from '../clock.js';
