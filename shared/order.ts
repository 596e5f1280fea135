// Ordering of names by UTF-16 code units, for the engine's sorts (pods, StatefulSets, tables).
//
// Not String.prototype.localeCompare: its first call loads ICU's collation data, which is part of the node binary,
// so about 2 MiB of the binary's pages (and 0.4 MiB of ICU code) join the runner's resident set for the rest of the
// run (measured with /proc/<pid>/pagemap, docs/benchmarks.md "Where the runner's peak goes"). The names sorted here
// are Kubernetes names (lowercase letters, digits, '-' and '.') and CrateDB table names: for the first, code-unit
// order is the order localeCompare gives; for the second only a stable, readable order is needed.

/** -1, 0 or 1: `a` before, equal to or after `b` by UTF-16 code units. For `Array.prototype.sort`. */
export function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
