// What the engine reads while it waits: shards moving (per table), the draining node's jobs and operations
// (sys.jobs / sys.operations through another node), and the Heartbeat a wait call site passes to wait.ts.
// The same reading is the evidence of the stall break (shared/stall.ts).
import { emitEvent } from './events.js';
import type { OperationContext } from './operation.js';
import type { LogFields } from './ports.js';
import { DEFAULT_HEARTBEAT_MS, type Heartbeat, type WaitState } from './wait.js';
import { byCodeUnits } from './order.js';

/** Statements of the waits' state and the stall break (the simulator and the fakes answer them). */
export const WAIT_SQL = {
  movingShards:
    "SELECT schema_name, table_name, routing_state, count(*) FROM sys.shards WHERE routing_state IN ('RELOCATING', 'INITIALIZING') GROUP BY schema_name, table_name, routing_state",
  primariesOnNode: `SELECT count(*) FROM sys.shards WHERE node['name'] = ? AND "primary" = true`,
  shardsOnNode: "SELECT count(*) FROM sys.shards WHERE node['name'] = ?",
  operations: "SELECT job_id, name, node['name'] FROM sys.operations",
  jobs: "SELECT id, node['name'], stmt FROM sys.jobs",
  statsEnabled: "SELECT settings['stats']['enabled'] FROM sys.cluster",
  minAvailability: "SELECT settings['cluster']['graceful_stop']['min_availability'] FROM sys.cluster",
} as const;

/** The engine's own probes: they show in sys.jobs / sys.operations while they run and never count as activity. */
const PROBES = new Set<string>([WAIT_SQL.operations, WAIT_SQL.jobs]);

interface MovingShards {
  relocating: number;
  initializing: number;
  /** "doc.t1 (2 relocating)" per table. */
  tables: string[];
}

async function movingShards(ctx: OperationContext, signal: AbortSignal): Promise<MovingShards> {
  const res = await ctx.clusterSql.query(WAIT_SQL.movingShards, [], { signal, timeoutMs: 10_000 });
  const per = new Map<string, { relocating: number; initializing: number }>();
  let relocating = 0;
  let initializing = 0;
  for (const [schema, table, state, count] of res.rows) {
    const key = `${String(schema)}.${String(table)}`;
    const e = per.get(key) ?? { relocating: 0, initializing: 0 };
    const n = Number(count) || 0;
    if (String(state) === 'RELOCATING') {
      e.relocating += n;
      relocating += n;
    } else {
      e.initializing += n;
      initializing += n;
    }
    per.set(key, e);
  }
  const tables = [...per.entries()]
    .sort(([a], [b]) => byCodeUnits(a, b))
    .map(
      ([t, e]) =>
        `${t} (${[e.relocating ? `${e.relocating} relocating` : '', e.initializing ? `${e.initializing} initializing` : ''].filter(Boolean).join(', ')})`,
    );
  return { relocating, initializing, tables };
}

export interface NodeActivity {
  /** stats.enabled: false means sys.jobs / sys.operations are always empty (no evidence either way). */
  statsEnabled: boolean;
  /** Statements the node coordinates (not the engine's own probes). */
  jobs: Array<{ id: string; stmt: string }>;
  /** Job parts running on the node, of jobs still running (not the engine's own probes). */
  operations: Array<{ jobId: string; name: string }>;
}

/** The node's jobs and operations, read through another node (the reader avoids the draining one). */
export async function nodeActivity(
  ctx: OperationContext,
  nodeName: string,
  signal: AbortSignal,
): Promise<NodeActivity> {
  const q = (stmt: string) => ctx.clusterSql.query(stmt, [], { signal, timeoutMs: 10_000 });
  const stats = await q(WAIT_SQL.statsEnabled);
  const enabled = stats.rows[0]?.[0];
  const statsEnabled = !(enabled === false || enabled === 'false');
  // Operations first, then jobs: an operation whose job is gone by then has finished (this probe's own are so).
  const ops = await q(WAIT_SQL.operations);
  const jobs = await q(WAIT_SQL.jobs);
  const running = new Map<string, string>(jobs.rows.map((r) => [String(r[0]), String(r[2] ?? '')]));
  return {
    statsEnabled,
    jobs: jobs.rows
      .filter((r) => String(r[1]) === nodeName && !PROBES.has(String(r[2] ?? '').trim()))
      .map((r) => ({ id: String(r[0]), stmt: String(r[2] ?? '') })),
    operations: ops.rows
      .filter(
        (r) => String(r[2]) === nodeName && running.has(String(r[0])) && !PROBES.has(running.get(String(r[0]))!.trim()),
      )
      .map((r) => ({ jobId: String(r[0]), name: String(r[1] ?? '') })),
  };
}

export function describeActivity(nodeName: string, a: NodeActivity): string {
  if (!a.statsEnabled)
    return `node ${nodeName}: activity unknown (stats.enabled is false, sys.jobs and sys.operations stay empty)`;
  const short = (s: string) => (s.length > 60 ? `${s.slice(0, 57)}...` : s);
  const jobs = a.jobs.length
    ? `${a.jobs.length} ${a.jobs.length === 1 ? 'job' : 'jobs'} (${a.jobs
        .slice(0, 3)
        .map((j) => short(j.stmt))
        .join('; ')}${a.jobs.length > 3 ? '; ...' : ''})`
    : '0 jobs';
  const names = [...new Set(a.operations.map((o) => o.name))];
  const ops = a.operations.length
    ? `${a.operations.length} ${a.operations.length === 1 ? 'operation' : 'operations'} (${names.slice(0, 4).join(', ')})`
    : '0 operations';
  return `node ${nodeName}: ${jobs}, ${ops}`;
}

function describeShards(m: MovingShards): string {
  if (m.relocating === 0 && m.initializing === 0) return 'no shard relocating or initializing';
  return `shards: ${m.relocating} relocating, ${m.initializing} initializing: ${m.tables.join(', ')}`;
}

/**
 * The cluster's state for a heartbeat: moving shards, and when a node is named its jobs and operations. Each part
 * that cannot be read says so (a heartbeat never fails the wait).
 */
function clusterWaitState(
  ctx: OperationContext,
  opts: { node?: string | null; shards?: boolean } = {},
): (signal: AbortSignal) => Promise<WaitState> {
  return async (signal) => {
    const parts: string[] = [];
    const fields: LogFields = {};
    if (opts.shards !== false) {
      try {
        const m = await movingShards(ctx, signal);
        parts.push(describeShards(m));
        fields.shards = { relocating: m.relocating, initializing: m.initializing, tables: m.tables };
      } catch (err) {
        if (signal.aborted) throw err;
        parts.push(`shards unknown (${err instanceof Error ? err.message : String(err)})`);
      }
    }
    if (opts.node) {
      try {
        const a = await nodeActivity(ctx, opts.node, signal);
        parts.push(describeActivity(opts.node, a));
        fields.node = {
          name: opts.node,
          statsEnabled: a.statsEnabled,
          jobs: a.jobs.length,
          operations: a.operations.length,
        };
      } catch (err) {
        if (signal.aborted) throw err;
        parts.push(`node ${opts.node}: activity unknown (${err instanceof Error ? err.message : String(err)})`);
      }
    }
    return { text: parts.join('; '), fields };
  };
}

/**
 * The Heartbeat of one wait of an operation: its logger (pod and step in every line), the run's interval, the
 * cluster state (when asked), and one `WaitingLong` Event on the pod once the wait passes a minute.
 */
export function heartbeatFor(
  ctx: OperationContext,
  what: string,
  opts: { pod?: string; uid?: string | null; node?: string | null; cluster?: boolean; shards?: boolean } = {},
): Heartbeat {
  const { deps } = ctx;
  const hb: Heartbeat = { log: deps.log, what, intervalMs: deps.heartbeatMs ?? DEFAULT_HEARTBEAT_MS };
  if (opts.cluster !== false)
    hb.state = clusterWaitState(ctx, { node: opts.node ?? null, ...(opts.shards === false ? { shards: false } : {}) });
  if (opts.pod) {
    const pod = opts.pod;
    hb.onLong = (line) =>
      emitEvent(
        deps,
        { kind: 'Pod', name: pod, namespace: ctx.cluster.namespace, uid: opts.uid ?? null },
        'WaitingLong',
        line,
        { type: 'Normal' },
      );
  }
  return hb;
}
