// Restarts that move no data (issue 9 item 1): per pod, right before it, decide whether the node's primaries must be
// relocated (min_availability PRIMARIES: a full file copy off the node, and about as much back after it returns) or
// whether the node may stop with min_availability NONE (nothing moves; the master promotes a STARTED replica of each
// of its primaries when the node leaves, and its copies recover operation-based after the RESET). Pure: the caller
// reads sys.shards and the cluster health through another node. Facts: as observed and measured on CrateDB 6.4.3.
import type { MinAvailability } from './schemas.js';
import { formatBytes } from './bytes.js';

/** `--relocation`: auto = decide per pod (none when safe, else primaries); primaries / full = always that. */
export type RelocationMode = 'auto' | 'primaries' | 'full';
/** What one pod's drain does: none = min_availability NONE (no shard moves), primaries / full = relocate. */
export type RelocationDecision = 'none' | 'primaries' | 'full';

/** One row of sys.shards (a shard copy). */
export interface ShardRow {
  schema: string;
  table: string;
  /** partition_ident ('' for a table that is not partitioned). */
  partition: string;
  shard: number;
  primary: boolean;
  /** routing_state: UNASSIGNED, INITIALIZING, STARTED, RELOCATING. */
  state: string;
  /** node['name']; null when unassigned. */
  node: string | null;
  /** size in bytes (0 when unknown). */
  size: number;
}

/** Bytes a drain of the node would copy off it by file-based recovery (one way; the balancer copies about as much back). */
interface RelocationBytes {
  none: number;
  primaries: number;
  full: number;
}

export interface RelocationVerdict {
  mode: RelocationMode;
  decision: RelocationDecision;
  /** What forces the relocation (empty for none / when the mode asked for it): `doc.t has 0 replicas (shards 0, 3)`. */
  blockers: string[];
  /** One line for the log and the plan. */
  summary: string;
  /** Primaries of this node (count) and the bytes per decision. */
  primaries: number;
  bytes: RelocationBytes;
}

const tableName = (r: Pick<ShardRow, 'schema' | 'table' | 'partition'>) =>
  `${r.schema}.${r.table}${r.partition ? ` partition ${r.partition}` : ''}`;

/** The bytes each decision would copy off the node. */
function relocationBytes(nodeName: string, shards: ShardRow[]): RelocationBytes {
  const mine = shards.filter((s) => s.node === nodeName);
  return {
    none: 0,
    primaries: mine.filter((s) => s.primary).reduce((n, s) => n + (s.size || 0), 0),
    full: mine.reduce((n, s) => n + (s.size || 0), 0),
  };
}

/**
 * The pod's relocation. `auto`: `none` when the cluster is GREEN and every shard whose primary is on the node has a
 * STARTED replica on another node; otherwise `primaries`, naming the tables/shards that force it. `primaries` / `full`
 * are taken as asked. `health` is the cluster's worst table health (sys.health; GREEN when there are no tables);
 * null means it could not be read (auto then relocates).
 */
export function decideRelocation(
  mode: RelocationMode,
  nodeName: string,
  shards: ShardRow[],
  health: string | null,
): RelocationVerdict {
  const bytes = relocationBytes(nodeName, shards);
  const primaries = shards.filter((s) => s.node === nodeName && s.primary);
  const size = (d: RelocationDecision) => `${formatBytes(bytes[d])} to copy`;
  if (mode !== 'auto') {
    return {
      mode,
      decision: mode,
      blockers: [],
      primaries: primaries.length,
      bytes,
      summary: `${mode} (as asked: --relocation ${mode}; ${size(mode)})`,
    };
  }
  const blockers: string[] = [];
  if (health === null) blockers.push('the cluster health could not be read');
  else if (health.toUpperCase() !== 'GREEN') blockers.push(`the cluster is ${health.toUpperCase()}, not GREEN`);
  // Per table (and partition): shards that have no replica copy at all (0 replicas), and shards whose replicas are
  // not STARTED on another node (missing, recovering, or on this very node).
  const noReplicas = new Map<string, number[]>();
  const notStarted = new Map<string, { shard: number; why: string }[]>();
  for (const p of primaries) {
    const copies = shards.filter(
      (s) =>
        !s.primary &&
        s.schema === p.schema &&
        s.table === p.table &&
        s.partition === p.partition &&
        s.shard === p.shard,
    );
    const key = tableName(p);
    if (p.state !== 'STARTED') {
      notStarted.set(key, [...(notStarted.get(key) ?? []), { shard: p.shard, why: `its primary is ${p.state}` }]);
      continue;
    }
    if (copies.length === 0) {
      noReplicas.set(key, [...(noReplicas.get(key) ?? []), p.shard]);
      continue;
    }
    if (!copies.some((c) => c.state === 'STARTED' && c.node !== null && c.node !== nodeName)) {
      const states = [...new Set(copies.map((c) => (c.node === nodeName ? 'on this node' : c.state)))].join('/');
      notStarted.set(key, [
        ...(notStarted.get(key) ?? []),
        { shard: p.shard, why: `no STARTED replica on another node (replica ${states})` },
      ]);
    }
  }
  const list = (ns: number[]) => `shard${ns.length === 1 ? '' : 's'} ${[...ns].sort((a, b) => a - b).join(', ')}`;
  for (const [t, ns] of noReplicas) blockers.push(`${t} has 0 replicas (${list(ns)} primary on ${nodeName})`);
  for (const [t, items] of notStarted) {
    const byWhy = new Map<string, number[]>();
    for (const i of items) byWhy.set(i.why, [...(byWhy.get(i.why) ?? []), i.shard]);
    for (const [why, ns] of byWhy) blockers.push(`${t} ${list(ns)}: ${why}`);
  }
  if (blockers.length === 0) {
    return {
      mode,
      decision: 'none',
      blockers,
      primaries: primaries.length,
      bytes,
      summary: `none (every one of the ${primaries.length} primaries on ${nodeName} has a STARTED replica on another node and the cluster is GREEN: min_availability NONE, 0 B to copy; primaries would copy ${formatBytes(bytes.primaries)})`,
    };
  }
  return {
    mode,
    decision: 'primaries',
    blockers,
    primaries: primaries.length,
    bytes,
    summary: `primaries (${blockers.join('; ')}: min_availability PRIMARIES, ${size('primaries')})`,
  };
}

/** The graceful-stop min_availability a decision means. */
export function minAvailabilityFor(decision: RelocationDecision): MinAvailability {
  return decision === 'none' ? 'NONE' : decision === 'full' ? 'FULL' : 'PRIMARIES';
}

/** Parse sys.shards rows of SQL.shards. */
export function shardRows(rows: unknown[][]): ShardRow[] {
  return rows.map((r) => ({
    schema: String(r[0] ?? ''),
    table: String(r[1] ?? ''),
    partition: r[2] === null || r[2] === undefined ? '' : String(r[2]),
    shard: Number(r[3] ?? 0),
    primary: r[4] === true || r[4] === 'true',
    state: String(r[5] ?? '').toUpperCase(),
    node: r[6] === null || r[6] === undefined || r[6] === '' ? null : String(r[6]),
    size: Number(r[7] ?? 0) || 0,
  }));
}
