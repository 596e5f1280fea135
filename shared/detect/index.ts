// Strategy detection: does dc_util in the preStop hook decommission this StatefulSet's pods, or must we? (pure)
//
// Everything here reads a StatefulSet as data and predicts what dc_util (crate-operator's utils/dc_util) would do
// at pod termination, following its own rules (dc_util's own source). When in doubt the answer is `manual`: we
// then decommission ourselves, and a dc_util that runs anyway finds nothing left to do. The opposite mistake
// (trusting a hook that does not decommission) deletes a node without draining it.
//
// The folder, one job per file:
//   shell.ts      a small POSIX shell tokenizer (words, operators)
//   expand.ts     kubelet's $(VAR), shell variables and parameter expansion, hostname pipelines
//   flags.ts      dc_util's command line as Go's flag package reads it
//   duration.ts   Go durations (shared/duration.ts) and the time values CrateDB accepts
//   prestop.ts    the dc_util calls of a preStop exec command
//   container.ts  which container is CrateDB
//   nodename.ts   -Cnode.name and the node name dc_util derives
//   scheme.ts     the scheme CrateDB serves on port 4200
//   timeout.ts    the timeout rule (dc_util's effective timeout, the delete grace period)
//   facts.ts      what the rules read
//   rules.ts      the rule table: docs/strategy.md's numbered rules, one named function each
//   strategy.ts   detectStrategy, a walk over the table
//   pod.ts        per pod: the pod's own spec decides
export * from './constants.js';
export { findCrateContainer } from './container.js';
export { parseGoDuration } from './duration.js';
export { masterEligibleFromArgs, nodeNameFromArgs } from './nodename.js';
export { detectPodStrategy, podStrategyOf } from './pod.js';
export { servedSchemeFromManifest, type HttpScheme } from './scheme.js';
export { detectStrategy } from './strategy.js';
