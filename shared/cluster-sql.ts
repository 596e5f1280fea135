// Reading a CrateDB cluster's state through any healthy node that is not being drained: the
// statements the engine sends, and a client (reads and writes) that fails over to the next pod on connection errors.
import type { V1Pod } from '@kubernetes/client-node';
import { CrateSqlError, SqlConnectionError, messageOf } from './errors.js';
import type { EngineDeps, SqlResponse, SqlTransport } from './ports.js';
import type { CrateDBCluster, PodInfo, SqlEndpoint } from './schemas.js';
import { shardRows, type ShardRow } from './relocation.js';
import { podReady } from './wait.js';

/** Every statement the engine sends (the CrateDB simulator and the fakes answer exactly these). */
export const SQL = {
  nodes: 'SELECT id, name, hostname FROM sys.nodes ORDER BY name',
  cluster: 'SELECT name, master_node FROM sys.cluster',
  allocationSetting: "SELECT settings['cluster']['routing']['allocation']['enable'] FROM sys.cluster",
  /** Effective timeout, force, min_availability (defaults included); read before the manual strategy changes them. */
  gracefulStopSettings:
    "SELECT settings['cluster']['graceful_stop']['timeout'], settings['cluster']['graceful_stop']['force'], settings['cluster']['graceful_stop']['min_availability'] FROM sys.cluster",
  health:
    'SELECT table_schema, table_name, partition_ident, health, missing_shards, underreplicated_shards FROM sys.health',
  shardStates: 'SELECT routing_state, count(*) FROM sys.shards GROUP BY routing_state',
  /** Every shard copy with its size: the per-pod relocation decision (shared/relocation.ts) and the plan's bytes. */
  shards: `SELECT schema_name, table_name, partition_ident, id, "primary", routing_state, node['name'], size FROM sys.shards`,
  /** Running CREATE SNAPSHOT statements (health gate `no_snapshot_running`). This statement itself does not match. */
  runningSnapshots: "SELECT count(*) FROM sys.jobs WHERE stmt ILIKE 'create snapshot%'",
  superuser: 'SELECT superuser FROM sys.users WHERE name = CURRENT_USER',
  setAllocation: (value: string) => `SET GLOBAL TRANSIENT "cluster.routing.allocation.enable" = '${value}'`,
  setGracefulStopTimeout: (seconds: number) => `SET GLOBAL TRANSIENT "cluster.graceful_stop.timeout" = '${seconds}s'`,
  setGracefulStopForce: (force: boolean) =>
    `SET GLOBAL TRANSIENT "cluster.graceful_stop.force" = ${force ? 'true' : 'false'}`,
  setMinAvailability: (value: string) => `SET GLOBAL TRANSIENT "cluster.graceful_stop.min_availability" = '${value}'`,
  resetAllocation: 'RESET GLOBAL "cluster.routing.allocation.enable"',
  /**
   * Restore the graceful_stop settings that were at their default: clears both levels. Several names in one RESET
   * GLOBAL (CrateDB's grammar: `RESET GLOBAL primaryExpression (',' primaryExpression)*`) are one cluster settings
   * update: all are cleared or none.
   */
  resetGracefulStop: (leaves: readonly ('timeout' | 'force' | 'min_availability')[]) =>
    `RESET GLOBAL ${leaves.map((leaf) => `"cluster.graceful_stop.${leaf}"`).join(', ')}`,
  /** Restore a graceful_stop setting that had a non-default value (as a transient value). */
  restoreGracefulStop: (leaf: 'timeout' | 'min_availability', value: string) =>
    `SET GLOBAL TRANSIENT "cluster.graceful_stop.${leaf}" = '${value.replace(/'/g, "''")}'`,
  decommissionParam: 'ALTER CLUSTER DECOMMISSION ?',
  /** Fallback literal form: single quotes, a quote inside doubled. */
  decommissionLiteral: (node: string) => `ALTER CLUSTER DECOMMISSION '${node.replace(/'/g, "''")}'`,
} as const;

export interface SqlTransportChoice {
  kind: 'http' | 'exec';
  /** Why, for the log. */
  reason: string;
}

/**
 * The transport every statement takes (reads, settings, DECOMMISSION). `auto`: HTTP when credentials are known
 * (crate-operator's system user, or --sql-user with --sql-password-secret), otherwise exec, because without
 * credentials only the superuser `crate` is left, and CrateDB (crate-operator's host-based auth) trusts it only
 * from the pod's own localhost.
 */
export function chooseSqlTransport(endpoint: SqlEndpoint): SqlTransportChoice {
  const creds = endpoint.credentials;
  const as = creds
    ? `user ${creds.username}, password from Secret ${creds.secretName} key ${creds.passwordKey}`
    : 'no credentials';
  if (endpoint.transport === 'http')
    return { kind: 'http', reason: `--sql-transport http, ${endpoint.scheme} to the pod IPs, ${as}` };
  if (endpoint.transport === 'exec')
    return {
      kind: 'exec',
      reason: `--sql-transport exec: every statement through exec into the CrateDB container, to ${endpoint.scheme}://localhost:${endpoint.port} as crate`,
    };
  if (creds) return { kind: 'http', reason: `credentials are known (${as}): ${endpoint.scheme} to the pod IPs` };
  return {
    kind: 'exec',
    reason: `no SQL credentials are known and CrateDB trusts the superuser crate only from the pod's own localhost: every statement goes through exec into the CrateDB container, to ${endpoint.scheme}://localhost:${endpoint.port}; give --sql-user and --sql-password-secret (or --sql-transport http) to use HTTP`,
  };
}

export interface NodeRow {
  id: string;
  name: string;
  hostname: string;
}

export interface HealthRow {
  schema: string;
  table: string;
  partition: string;
  health: string;
  missingShards: number;
  underreplicatedShards: number;
}

/** Is this error worth asking another node (the node is down, draining or overloaded)? */
function isNodeUnavailableError(err: unknown): boolean {
  if (err instanceof SqlConnectionError) return true;
  return err instanceof CrateSqlError && err.httpStatus >= 500;
}

/** A PodInfo from the live pod, keeping what discovery knew (node name, container). */
export function livePodInfo(pod: V1Pod, known: PodInfo): PodInfo {
  const cs = pod.status?.containerStatuses?.find((c) => c.name === known.containerName);
  return {
    ...known,
    uid: pod.metadata?.uid ?? known.uid,
    podIP: pod.status?.podIP ?? null,
    ready: podReady(pod),
    phase: pod.status?.phase ?? null,
    restartCount: cs?.restartCount ?? 0,
    deleting: !!pod.metadata?.deletionTimestamp,
  };
}

/**
 * Sends read statements (and allocation settings) through a node of the cluster that is not
 * in `avoid`; on a connection error or a 5xx it tries the next pod. Remembers the last good pod.
 */
/** How long query() trusts a pod lookup (IP, uid, not terminating) before reading the pod again. */
export const LIVE_POD_TTL_MS = 5_000;

export class ClusterSql {
  /** Pod names or node names not to read through (e.g. the node being decommissioned). */
  readonly avoid = new Set<string>();
  private preferred: string | null = null;
  private readonly transports = new Map<string, SqlTransport>();
  /** Live pod lookups of query(), kept briefly: without it every statement cost a GET pod. */
  private readonly recent = new Map<string, { at: number; target: { transport: SqlTransport; pod: PodInfo } | null }>();

  constructor(
    private readonly deps: EngineDeps,
    private readonly cluster: CrateDBCluster,
    avoid: Iterable<string> = [],
  ) {
    for (const a of avoid) this.avoid.add(a);
  }

  /** The pod answering the last query, or null. */
  get currentPod(): string | null {
    return this.preferred;
  }

  /** Pods to ask, best first: not avoided and ready first; avoided ones only as a last resort (a one-node cluster). */
  private candidates(): PodInfo[] {
    const avoided = (p: PodInfo) => this.avoid.has(p.name) || (!!p.nodeName && this.avoid.has(p.nodeName));
    const ordered = [...this.cluster.pods].sort(
      (a, b) => Number(avoided(a)) - Number(avoided(b)) || Number(b.ready) - Number(a.ready),
    );
    const pref = ordered.findIndex((p) => p.name === this.preferred && !avoided(p));
    if (pref > 0) ordered.unshift(...ordered.splice(pref, 1));
    return ordered;
  }

  /** The transport kind statements take unless a caller asks for exec (chooseSqlTransport). */
  get defaultKind(): 'http' | 'exec' {
    return chooseSqlTransport(this.cluster.sql).kind;
  }

  /** A transport to one live pod of the cluster (fresh IP and uid); kind defaults to the endpoint's choice. */
  async transportTo(
    podName: string,
    kind: 'http' | 'exec' = this.defaultKind,
  ): Promise<{ transport: SqlTransport; pod: PodInfo } | null> {
    const known = this.cluster.pods.find((p) => p.name === podName);
    if (!known) return null;
    const live = await this.deps.kube.getPod(this.cluster.namespace, podName);
    if (!live || live.metadata?.deletionTimestamp) return null;
    const info = livePodInfo(live, known);
    const cacheKey = `${kind}/${podName}/${info.uid}/${info.podIP ?? ''}`;
    let transport = this.transports.get(cacheKey);
    if (!transport) {
      transport =
        kind === 'http'
          ? this.deps.sql.http(this.cluster.namespace, info, this.cluster.sql)
          : this.deps.sql.exec(this.cluster.namespace, info, this.cluster.sql);
      this.transports.set(cacheKey, transport);
    }
    return { transport, pod: info };
  }

  /**
   * transportTo() for the read path, remembered for LIVE_POD_TTL_MS: a poll every second should not
   * cost a GET pod per statement. Forgotten as soon as the pod fails to answer, so a re-created pod
   * (new IP) is looked up again at once.
   */
  private async recentTransport(podName: string): Promise<{ transport: SqlTransport; pod: PodInfo } | null> {
    const now = this.deps.clock.now();
    const hit = this.recent.get(podName);
    if (hit && now - hit.at < LIVE_POD_TTL_MS) return hit.target;
    const target = await this.transportTo(podName);
    this.recent.set(podName, { at: now, target });
    return target;
  }

  async query(
    stmt: string,
    args: unknown[] = [],
    opts: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<SqlResponse> {
    const errors: string[] = [];
    for (const pod of this.candidates()) {
      let target;
      try {
        target = await this.recentTransport(pod.name);
      } catch (err) {
        errors.push(`${pod.name}: ${messageOf(err)}`);
        continue;
      }
      if (!target) {
        errors.push(`${pod.name}: pod absent or terminating`);
        continue;
      }
      try {
        const res = await target.transport.query(stmt, args, {
          timeoutMs: opts.timeoutMs ?? 30_000,
          ...(opts.signal ? { signal: opts.signal } : {}),
        });
        this.preferred = pod.name;
        return res;
      } catch (err) {
        if (opts.signal?.aborted) throw err;
        this.recent.delete(pod.name);
        if (!isNodeUnavailableError(err)) throw err;
        errors.push(`${pod.name}: ${messageOf(err)}`);
        if (this.preferred === pod.name) this.preferred = null;
      }
    }
    throw new SqlConnectionError(
      `No CrateDB node of cluster ${this.cluster.namespace}/${this.cluster.name} answered SQL${errors.length ? ` (${errors.join('; ')})` : ' (no pod to ask)'}`,
    );
  }

  async nodes(signal?: AbortSignal): Promise<NodeRow[]> {
    const res = await this.query(SQL.nodes, [], signal ? { signal } : {});
    return res.rows.map((r) => ({ id: String(r[0]), name: String(r[1]), hostname: String(r[2]) }));
  }

  /** The elected master's node id, or null. */
  async masterNodeId(signal?: AbortSignal): Promise<string | null> {
    const res = await this.query(SQL.cluster, [], signal ? { signal } : {});
    const v = res.rows[0]?.[1];
    return v === null || v === undefined || v === '' ? null : String(v);
  }

  async healthRows(signal?: AbortSignal): Promise<HealthRow[]> {
    const res = await this.query(SQL.health, [], signal ? { signal } : {});
    return res.rows.map((r) => ({
      schema: String(r[0]),
      table: String(r[1]),
      partition: r[2] === null || r[2] === undefined ? '' : String(r[2]),
      health: String(r[3]).toUpperCase(),
      missingShards: Number(r[4] ?? 0),
      underreplicatedShards: Number(r[5] ?? 0),
    }));
  }

  async shardStates(signal?: AbortSignal): Promise<Map<string, number>> {
    const res = await this.query(SQL.shardStates, [], signal ? { signal } : {});
    return new Map(res.rows.map((r) => [String(r[0]).toUpperCase(), Number(r[1])]));
  }

  /** Every shard copy (SQL.shards), for the relocation decision. */
  async shards(signal?: AbortSignal): Promise<ShardRow[]> {
    const res = await this.query(SQL.shards, [], signal ? { signal } : {});
    return shardRows(res.rows);
  }

  /**
   * How many CREATE SNAPSHOT statements are running (sys.jobs), or `unreadable` with CrateDB's message when
   * this version does not know the table or column (isUnknownRelationOrColumn). Other errors are thrown.
   */
  async runningSnapshots(signal?: AbortSignal): Promise<{ count: number } | { unreadable: string }> {
    try {
      const res = await this.query(SQL.runningSnapshots, [], signal ? { signal } : {});
      return { count: Number(res.rows[0]?.[0] ?? 0) };
    } catch (err) {
      // An unknown table/column, or a parse error (4000: a CrateDB without ILIKE) on this fixed statement,
      // means this version cannot tell: report it, do not block every roll on it.
      if (isUnknownRelationOrColumn(err) || (err instanceof CrateSqlError && err.code === 4000))
        return { unreadable: messageOf(err) };
      throw err;
    }
  }
}

/** CrateDB's answer for an unknown relation (4041), column (4043) or schema (4045): an older version lacks it. */
function isUnknownRelationOrColumn(err: unknown): boolean {
  return err instanceof CrateSqlError && (err.code === 4041 || err.code === 4043 || err.code === 4045);
}

export function worstHealth(rows: HealthRow[]): 'GREEN' | 'YELLOW' | 'RED' {
  if (rows.some((r) => r.health === 'RED')) return 'RED';
  if (rows.some((r) => r.health !== 'GREEN')) return 'YELLOW';
  return 'GREEN';
}
