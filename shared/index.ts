// Public API of the engine. Front ends (plugin, runner) import from here only.
export * from './errors.js';
export * from './schemas.js';
export type * from './ports.js';
export { detectStrategy, parseGoDuration, findCrateContainer, nodeNameFromArgs } from './detect.js';
