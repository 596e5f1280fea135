// In-memory CrateDB cluster for unit tests: nodes, tables, shard copies, settings, the SQL the
// engine sends, ALTER CLUSTER DECOMMISSION (drain per min_availability, then exit 0), and an
// invariant recorder noting every moment a primary was unavailable. Facts: CrateDB's documented behaviour and what CrateDB 6.4.3 was observed to do (docs/engine.md).
import { CrateSqlError, SqlConnectionError } from '../../../shared/errors.js';
import type { Clock, SqlResponse } from '../../../shared/ports.js';
import { VirtualClock } from '../virtual-clock.js';

export type NodeState = 'up' | 'draining' | 'down';
export type RoutingState = 'STARTED' | 'INITIALIZING' | 'RELOCATING' | 'UNASSIGNED';

export interface FakeNode {
  id: string;
  name: string;
  hostname: string;
  state: NodeState;
}

export interface ShardCopy {
  schema: string;
  table: string;
  shard: number;
  primary: boolean;
  /** Node name holding (or initializing) the copy; null when unassigned. */
  node: string | null;
  state: RoutingState;
  /** Target of a relocation. */
  relocatingTo?: string;
  /** Node that held the copy before it became unassigned (recovers there first). */
  lastNode?: string;
  /** sys.shards `size` in bytes (every copy of a shard has the same size). */
  size: number;
}

export interface TableSpec {
  schema?: string;
  name: string;
  shards: number;
  replicas: number;
  /** Bytes per shard copy (sys.shards `size`); default 1 MB. */
  shardBytes?: number;
}

/** A shard copy that recovered or moved: file-based (bytes copied) or operation-based (from the primary's retention lease). */
export interface CopyRecord {
  at: number;
  table: string;
  shard: number;
  /** Node the copy went to. */
  node: string;
  kind: 'file' | 'operations';
  /** relocation = a primary moved off a draining node; recovery = a replica (re)built after allocation allowed it. */
  reason: 'relocation' | 'recovery';
  bytes: number;
}

export interface Violation {
  at: number;
  table: string;
  shard: number;
  reason: string;
}

export interface StatementRecord {
  node: string;
  user: string;
  via: 'http' | 'exec';
  stmt: string;
  args: unknown[];
  at: number;
}

export interface SqlUser {
  password: string | null;
  superuser: boolean;
}

export interface FakeCrateOptions {
  clock?: Clock;
  /** Engine ms per drain/allocation step. */
  stepMs?: number;
  /** Engine ms between the end of a graceful stop and the process exit (CrateDB: ~5 s). */
  exitDelayMs?: number;
  /** Does ALTER CLUSTER DECOMMISSION answer only after the node stopped (connection dropped)? */
  decommissionBlocks?: boolean;
  /** May `crate` log in over the network (HBA trust beyond _local_)? crate-operator: no. */
  trustCrateFromNetwork?: boolean;
  /** CrateDB before 6.4.4 exits on a health timeout even with force=false. */
  exitOnTimeoutWithoutForce?: boolean;
  /**
   * Fault: the graceful stop aborts at its timeout and the node stays up even with force=true (CrateDB does so only
   * with force=false, which the engine never sets): a node that does not leave in time, so that the engine's own
   * decommission timeout is what ends the wait.
   */
  abortsStopOnTimeout?: boolean;
  /** Refuse `ALTER CLUSTER DECOMMISSION ?` (a version without parameter support there). */
  rejectParameterizedDecommission?: boolean;
  /** Answer sys.jobs with CrateDB's unknown-relation error 4041 (a version without it). */
  noSysJobs?: boolean;
  /** Engine ms between a draining node's checks for active requests (CrateDB: 5 s, observed on CrateDB 6.4.3). */
  activeCheckMs?: number;
  /**
   * The scheme port 4200 speaks (CrateDB's documented behaviour: with ssl.http.enabled the same port speaks HTTPS only);
   * default http. The SQL fakes and the world's dc_util refuse the other one, as a socket would.
   */
  httpScheme?: 'http' | 'https';
}

const ALLOCATION = 'cluster.routing.allocation.enable';

/** CrateDB's defaults as sys.cluster shows them (CrateDB's documented behaviour). */
export const SETTING_DEFAULTS: Record<string, unknown> = {
  [ALLOCATION]: 'all',
  'cluster.graceful_stop.timeout': '2h',
  'cluster.graceful_stop.force': false,
  'cluster.graceful_stop.min_availability': 'PRIMARIES',
  'stats.enabled': true,
};

/** A statement running on the cluster: coordinated by `node`, with job parts (operations) on `parts`. */
export interface FakeJob {
  id: string;
  node: string;
  stmt: string;
  parts: string[];
}

export class FakeCrateCluster {
  readonly clock: Clock;
  /** The clock was made here (not options.clock): close() stops it. */
  private readonly ownsClock: boolean;
  readonly nodes = new Map<string, FakeNode>();
  readonly tables: Required<TableSpec>[] = [];
  readonly shards: ShardCopy[] = [];
  readonly transient = new Map<string, unknown>();
  readonly persistent = new Map<string, unknown>();
  readonly users = new Map<string, SqlUser>([['crate', { password: null, superuser: true }]]);
  readonly statements: StatementRecord[] = [];
  /** Extra statements sys.jobs shows as running (like the simulator's `jobs`); see startSnapshot(). */
  readonly jobs: string[] = [];
  /** Client statements running now (sys.jobs on the coordinator, sys.operations on each part's node); see startJob(). */
  readonly running: FakeJob[] = [];
  /**
   * Per node, the active-request counter's error: CrateDB 6.4.3 decrements it once too often per retried read
   * (observed on CrateDB 6.4.3), so a node with a leak never sees exactly 0 and waits the whole graceful-stop timeout.
   */
  readonly counterLeak = new Map<string, number>();
  /** Statements that changed state (SET, RESET, ALTER CLUSTER ...). */
  readonly writes: StatementRecord[] = [];
  readonly violations: Violation[] = [];
  /** Every copy (measured on CrateDB 6.4.3): file-based relocations and recoveries copy `bytes`; operation-based ones copy 0. */
  readonly copies: CopyRecord[] = [];
  /** Every decommission started: node name and when. */
  readonly decommissions: { node: string; at: number }[] = [];
  /** Every node (re)join: a new process of that node. */
  readonly joins: { node: string; at: number }[] = [];
  /** Moments when more than one node was out (draining or down) at once, with the nodes out. */
  readonly concurrentOut: { at: number; nodes: string[] }[] = [];
  /** Called when a node's process exits (world: container terminated). */
  onNodeExit?: (node: FakeNode, exitCode: number) => void;
  masterName: string | null = null;
  readonly options: Required<Omit<FakeCrateOptions, 'clock'>>;

  private readonly unavailable = new Set<string>();
  private idCounter = 0;
  private ticking = false;
  private closed = false;
  private readonly aborts = new Set<AbortController>();

  constructor(options: FakeCrateOptions = {}) {
    // Without a clock of the caller's: the auto-advancing virtual one (engine time jumps whenever the process is
    // idle), stopped by close().
    this.ownsClock = !options.clock;
    this.clock = options.clock ?? new VirtualClock(undefined, { autoAdvance: true });
    this.options = {
      stepMs: options.stepMs ?? 200,
      exitDelayMs: options.exitDelayMs ?? 1000,
      decommissionBlocks: options.decommissionBlocks ?? false,
      trustCrateFromNetwork: options.trustCrateFromNetwork ?? true,
      exitOnTimeoutWithoutForce: options.exitOnTimeoutWithoutForce ?? false,
      abortsStopOnTimeout: options.abortsStopOnTimeout ?? false,
      rejectParameterizedDecommission: options.rejectParameterizedDecommission ?? false,
      noSysJobs: options.noSysJobs ?? false,
      activeCheckMs: options.activeCheckMs ?? 5000,
      httpScheme: options.httpScheme ?? 'http',
    };
  }

  close(): void {
    this.closed = true;
    for (const a of this.aborts) a.abort();
    if (this.ownsClock && this.clock instanceof VirtualClock) this.clock.stop();
  }

  // ---------- set-up ----------

  /** A client statement coordinated by `node` with job parts on `parts`, running until the returned function is called. */
  startJob(node: string, stmt: string, parts: string[] = [node]): () => void {
    const job: FakeJob = { id: `job-${++this.idCounter}`, node, stmt, parts };
    this.running.push(job);
    return () => {
      const i = this.running.indexOf(job);
      if (i >= 0) this.running.splice(i, 1);
    };
  }

  /** The node's active-request counter goes negative by `by` (retried reads, CrateDB 6.4.3). */
  leakCounter(node: string, by = 1): void {
    this.counterLeak.set(node, (this.counterLeak.get(node) ?? 0) - by);
  }

  /** What a draining node's exit check sees: statements it coordinates and parts running on it, plus the leak. */
  activeRequests(node: string): number {
    const own =
      this.running.filter((j) => j.node === node).length +
      this.running.reduce((n, j) => n + j.parts.filter((p) => p === node).length, 0);
    return own + (this.counterLeak.get(node) ?? 0);
  }

  /** A CREATE SNAPSHOT shows as running in sys.jobs until the returned function is called. */
  startSnapshot(stmt = 'CREATE SNAPSHOT repo.snap1 ALL WITH (wait_for_completion = true)'): () => void {
    this.jobs.push(stmt);
    return () => {
      const i = this.jobs.indexOf(stmt);
      if (i >= 0) this.jobs.splice(i, 1);
    };
  }

  addUser(name: string, password: string | null, superuser = false): void {
    this.users.set(name, { password, superuser });
  }

  /** A node process starts and joins the cluster (existing name keeps its id). */
  joinNode(name: string, hostname: string): FakeNode {
    let node = this.nodes.get(name);
    if (!node) {
      this.idCounter += 1;
      node = { id: `node-id-${this.idCounter}`, name, hostname, state: 'up' };
      this.nodes.set(name, node);
    } else {
      node.hostname = hostname;
      node.state = 'up';
    }
    this.joins.push({ node: name, at: this.clock.now() });
    this.elect();
    this.kick();
    return node;
  }

  /** The node's process stops without a decommission (SIGTERM/SIGKILL). */
  stopNode(name: string): void {
    const node = this.nodes.get(name);
    if (!node || node.state === 'down') return;
    this.leave(node);
  }

  /** Create a table with primaries spread over the up nodes and replicas on other nodes. */
  createTable(spec: TableSpec): void {
    const table = {
      schema: spec.schema ?? 'doc',
      name: spec.name,
      shards: spec.shards,
      replicas: spec.replicas,
      shardBytes: spec.shardBytes ?? 1_000_000,
    };
    this.tables.push(table);
    const up = this.upNodes();
    for (let s = 0; s < table.shards; s++) {
      for (let r = 0; r <= table.replicas; r++) {
        const node = up.length > r ? up[(s + r) % up.length]!.name : null;
        this.shards.push({
          schema: table.schema,
          table: table.name,
          shard: s,
          primary: r === 0,
          node,
          state: node ? 'STARTED' : 'UNASSIGNED',
          size: table.shardBytes,
        });
      }
    }
    this.check();
  }

  /** Clear a setting from outside SQL (dc_util's postStart --reset-routing); not in `writes`. */
  resetSetting(name: string): void {
    this.transient.delete(name);
    this.persistent.delete(name);
    this.kick();
  }

  /** The effective value sys.cluster shows: transient, else persistent, else CrateDB's default (null if unknown). */
  effectiveSetting(name: string): unknown {
    const v = this.setting(name);
    return v === undefined ? (SETTING_DEFAULTS[name] ?? null) : v;
  }

  setting(name: string): unknown {
    return this.transient.has(name) ? this.transient.get(name) : this.persistent.get(name);
  }

  node(name: string): FakeNode | undefined {
    return this.nodes.get(name);
  }

  nodeByHostname(hostname: string): FakeNode | undefined {
    return [...this.nodes.values()].find((n) => n.hostname === hostname);
  }

  /** File bytes copied (relocations and file-based recoveries) since the start. */
  fileBytesCopied(): number {
    return this.copies.filter((c) => c.kind === 'file').reduce((n, c) => n + c.bytes, 0);
  }

  /** Worst table health (GREEN when there are no tables). */
  health(): 'GREEN' | 'YELLOW' | 'RED' {
    const rows = this.healthRows();
    if (rows.some((r) => r.health === 'RED')) return 'RED';
    if (rows.some((r) => r.health === 'YELLOW')) return 'YELLOW';
    return 'GREEN';
  }

  // ---------- SQL ----------

  /**
   * Run one statement on node `nodeName` as `user`. `via: 'exec'` means from the pod's own
   * localhost (where `crate` is trusted).
   */
  async query(
    nodeName: string,
    login: { user: string; password: string | null },
    via: 'http' | 'exec',
    stmt: string,
    args: unknown[] = [],
  ): Promise<SqlResponse> {
    const node = this.nodes.get(nodeName);
    if (!node || node.state === 'down') throw new SqlConnectionError(`connect ECONNREFUSED ${nodeName}:4200`);
    const user = this.users.get(login.user);
    const trusted = login.user === 'crate' && (via === 'exec' || this.options.trustCrateFromNetwork);
    if (!user || (!trusted && (user.password === null || user.password !== login.password))) {
      throw new CrateSqlError(401, null, `password authentication failed for user "${login.user}"`);
    }
    if (node.state === 'draining') {
      throw new CrateSqlError(
        500,
        5000,
        `NodeDisconnectedException[[${node.name}] node is shutting down (decommissioning)]`,
      );
    }
    const record: StatementRecord = {
      node: nodeName,
      user: login.user,
      via,
      stmt,
      args: [...args],
      at: this.clock.now(),
    };
    this.statements.push(record);
    return this.execute(record, user, node);
  }

  private async execute(record: StatementRecord, user: SqlUser, node: FakeNode): Promise<SqlResponse> {
    const s = record.stmt.trim().replace(/\s+/g, ' ').replace(/;$/, '');
    const lower = s.toLowerCase();
    const ok = (cols: string[], rows: unknown[][]): SqlResponse => ({ cols, rows, rowcount: rows.length, duration: 1 });

    if (lower === 'select 1') return ok(['1'], [[1]]);
    if (/^select id, name, hostname from sys\.nodes( order by name)?$/.test(lower)) {
      const rows = [...this.nodes.values()]
        .filter((n) => n.state !== 'down')
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((n) => [n.id, n.name, n.hostname]);
      return ok(['id', 'name', 'hostname'], rows);
    }
    if (/^select name, master_node from sys\.cluster$/.test(lower)) {
      const master = this.masterName ? (this.nodes.get(this.masterName)?.id ?? null) : null;
      return ok(['name', 'master_node'], [['crate', master]]);
    }
    if (lower.startsWith('select settings[') && lower.endsWith('from sys.cluster')) {
      // One column per settings['a']['b']... item: the effective value (defaults included, like CrateDB), the column
      // named after the expression as written (as CrateDB and the Go simulator name it: test/contract/crate/).
      const found = [...s.matchAll(/settings((?:\['[a-z_]+'\])+)/gi)];
      const items = found.map((m) => [...m[1]!.matchAll(/\['([a-z_]+)'\]/gi)].map((k) => k[1]!).join('.'));
      return ok(
        found.map((m) => m[0]),
        [items.map((name) => this.effectiveSetting(name))],
      );
    }
    if (
      /^select table_schema, table_name, partition_ident, health, missing_shards, underreplicated_shards from sys\.health$/.test(
        lower,
      )
    ) {
      const rows = this.healthRows().map((r) => [r.schema, r.table, '', r.health, r.missing, r.underreplicated]);
      return ok(
        ['table_schema', 'table_name', 'partition_ident', 'health', 'missing_shards', 'underreplicated_shards'],
        rows,
      );
    }
    if (/^select routing_state, count\(\*\) from sys\.shards group by routing_state$/.test(lower)) {
      const counts = new Map<string, number>();
      for (const c of this.shards) counts.set(c.state, (counts.get(c.state) ?? 0) + 1);
      return ok(
        ['routing_state', 'count(*)'],
        [...counts.entries()].map(([k, v]) => [k, v]),
      );
    }
    if (/^select count\(\*\) from sys\.jobs where stmt ilike 'create snapshot%'$/.test(lower)) {
      if (this.options.noSysJobs) throw new CrateSqlError(404, 4041, "RelationUnknown[Relation 'sys.jobs' unknown]");
      return ok(['count(*)'], [[this.jobs.filter((j) => j.trim().toLowerCase().startsWith('create snapshot')).length]]);
    }
    if (
      lower ===
      "select schema_name, table_name, routing_state, count(*) from sys.shards where routing_state in ('relocating', 'initializing') group by schema_name, table_name, routing_state"
    ) {
      const counts = new Map<string, number>();
      for (const c of this.shards.filter((x) => x.state === 'RELOCATING' || x.state === 'INITIALIZING')) {
        const k = `${c.schema}\u0000${c.table}\u0000${c.state}`;
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
      return ok(
        ['schema_name', 'table_name', 'routing_state', 'count(*)'],
        [...counts.entries()].map(([k, v]) => [...k.split('\u0000'), v]),
      );
    }
    if (
      lower ===
      `select schema_name, table_name, partition_ident, id, "primary", routing_state, node['name'], size from sys.shards`
    ) {
      const rows = this.shards.map((c) => [
        c.schema,
        c.table,
        '',
        c.shard,
        c.primary,
        c.state,
        c.node && this.nodes.get(c.node)?.state !== 'down' ? c.node : null,
        c.size,
      ]);
      return ok(
        ['schema_name', 'table_name', 'partition_ident', 'id', 'primary', 'routing_state', "node['name']", 'size'],
        rows,
      );
    }
    if (lower === "select count(*) from sys.shards where node['name'] = ?") {
      return ok(['count(*)'], [[this.shards.filter((c) => c.node === record.args[0]).length]]);
    }
    if (lower === `select count(*) from sys.shards where node['name'] = ? and "primary" = true`) {
      return ok(['count(*)'], [[this.shards.filter((c) => c.node === record.args[0] && c.primary).length]]);
    }
    // sys.jobs / sys.operations: empty with stats.enabled = false (CrateDB keeps no job log then).
    const stats = this.effectiveSetting('stats.enabled') !== false;
    if (lower === "select job_id, name, node['name'] from sys.operations") {
      // This statement's own parts run on every node (it reads each node's sys.operations).
      const self = `job-${++this.idCounter}`;
      const rows = stats
        ? [
            ...this.running.flatMap((j) => j.parts.map((p) => [j.id, 'collect', p])),
            ...this.upNodes().map((n) => [self, 'collect', n.name]),
          ]
        : [];
      return ok(['job_id', 'name', "node['name']"], rows);
    }
    if (lower === "select id, node['name'], stmt from sys.jobs") {
      const rows = stats
        ? [...this.running.map((j) => [j.id, j.node, j.stmt]), [`job-${++this.idCounter}`, node.name, s]]
        : [];
      return ok(['id', "node['name']", 'stmt'], rows);
    }
    if (/^select superuser from sys\.users where name = current_user$/.test(lower)) {
      return ok(['superuser'], [[user.superuser]]);
    }

    let m = /^set global(?: (transient|persistent))? "([a-z_.]+)" = (.+)$/i.exec(s);
    if (m) {
      const value = this.literal(m[3]!, record.args);
      const target = (m[1] ?? 'transient').toLowerCase() === 'persistent' ? this.persistent : this.transient;
      this.validateSetting(m[2]!, value);
      target.set(m[2]!, value);
      this.writes.push(record);
      this.kick();
      return { cols: [], rows: [[]], rowcount: 1, duration: 1 };
    }
    // RESET GLOBAL "a"[, "b" ...]: one settings update, every name cleared (CrateDB's grammar allows a list).
    m = /^reset global ("[a-z_.]+"(?:, "[a-z_.]+")*)$/i.exec(s);
    if (m) {
      for (const name of m[1]!.split(', ').map((q) => q.slice(1, -1))) {
        this.transient.delete(name);
        this.persistent.delete(name);
      }
      this.writes.push(record);
      this.kick();
      return { cols: [], rows: [[]], rowcount: 1, duration: 1 };
    }
    m = /^alter cluster decommission (.+)$/i.exec(s);
    if (m) {
      if (!user.superuser) {
        throw new CrateSqlError(
          401,
          4010,
          `MissingPrivilegeException[Missing 'AL' privilege for user '${record.user}'] (only the superuser may decommission)`,
        );
      }
      if (this.options.rejectParameterizedDecommission && /^(\?|\$\d+)$/.test(m[1]!.trim())) {
        throw new CrateSqlError(
          400,
          4000,
          `SQLParseException[line 1:28: mismatched input '?' expecting {<string>, <identifier>}]`,
        );
      }
      const ident = this.literal(m[1]!, record.args);
      if (typeof ident !== 'string')
        throw new CrateSqlError(400, 4000, `SQLParseException[invalid node identifier ${m[1]}]`);
      const target =
        this.nodes.get([...this.nodes.values()].find((n) => n.id === ident)?.name ?? '') ??
        [...this.nodes.values()].find((n) => n.name.toLowerCase() === ident.toLowerCase());
      if (!target || target.state === 'down')
        throw new CrateSqlError(400, 4000, `IllegalArgumentException[Node "${ident}" does not exist]`);
      this.writes.push(record);
      const done = this.decommission(target);
      if (this.options.decommissionBlocks) {
        await done;
        if (target === node) throw new SqlConnectionError('socket hang up (the node stopped)');
      }
      return { cols: [], rows: [], rowcount: 1, duration: 1 };
    }
    throw new CrateSqlError(400, 4000, `SQLParseException[FakeCrateCluster does not understand: ${s}]`);
  }

  /** A SQL literal or a parameter: '...' (with '' escapes), $$...$$, ?, $n, true/false, numbers. */
  private literal(text: string, args: unknown[]): unknown {
    const t = text.trim();
    if (t === '?') return args[0];
    const pm = /^\$(\d+)$/.exec(t);
    if (pm) return args[Number(pm[1]) - 1];
    const q = /^'((?:[^']|'')*)'$/.exec(t);
    if (q) return q[1]!.replace(/''/g, "'");
    const d = /^\$\$(.*)\$\$$/.exec(t);
    if (d) return d[1];
    if (/^(true|false)$/i.test(t)) return t.toLowerCase() === 'true';
    if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
    throw new CrateSqlError(400, 4000, `SQLParseException[line 1: cannot parse value ${t}]`);
  }

  private validateSetting(name: string, value: unknown): void {
    if (name === ALLOCATION && !['all', 'primaries', 'new_primaries', 'none'].includes(String(value).toLowerCase())) {
      throw new CrateSqlError(400, 4000, `IllegalArgumentException[Invalid value for ${name}: ${String(value)}]`);
    }
  }

  // ---------- cluster behaviour ----------

  private upNodes(): FakeNode[] {
    return [...this.nodes.values()].filter((n) => n.state === 'up').sort((a, b) => a.name.localeCompare(b.name));
  }

  private allocation(): string {
    return String(this.setting(ALLOCATION) ?? 'all').toLowerCase();
  }

  private elect(): void {
    const master = this.masterName ? this.nodes.get(this.masterName) : undefined;
    if (master && master.state !== 'down') return;
    this.masterName = this.upNodes()[0]?.name ?? null;
  }

  private healthRows(): {
    schema: string;
    table: string;
    health: 'GREEN' | 'YELLOW' | 'RED';
    missing: number;
    underreplicated: number;
  }[] {
    return this.tables.map((t) => {
      let missing = 0;
      let under = 0;
      for (let s = 0; s < t.shards; s++) {
        const copies = this.shards.filter((c) => c.table === t.name && c.schema === t.schema && c.shard === s);
        if (!copies.some((c) => c.primary && this.active(c))) missing += 1;
        under += copies.filter((c) => !c.primary && !this.active(c)).length;
      }
      const health = missing > 0 ? 'RED' : under > 0 ? 'YELLOW' : 'GREEN';
      return { schema: t.schema, table: t.name, health, missing, underreplicated: under };
    });
  }

  private active(c: ShardCopy): boolean {
    return (c.state === 'STARTED' || c.state === 'RELOCATING') && !!c.node && this.nodes.get(c.node)?.state !== 'down';
  }

  /** Record every shard whose primary became unavailable (once per episode). */
  private check(): void {
    for (const t of this.tables) {
      for (let s = 0; s < t.shards; s++) {
        const id = `${t.schema}.${t.name}[${s}]`;
        const ok = this.shards.some(
          (c) => c.table === t.name && c.schema === t.schema && c.shard === s && c.primary && this.active(c),
        );
        if (!ok && !this.unavailable.has(id)) {
          this.unavailable.add(id);
          this.violations.push({
            at: this.clock.now(),
            table: `${t.schema}.${t.name}`,
            shard: s,
            reason: 'no active primary',
          });
        } else if (ok) this.unavailable.delete(id);
      }
    }
  }

  /** Record a moment when two or more known nodes are out of service (draining or down) together. */
  private trackOut(): void {
    const out = [...this.nodes.values()].filter((n) => n.state !== 'up').map((n) => n.name);
    if (out.length > 1) this.concurrentOut.push({ at: this.clock.now(), nodes: out });
  }

  private leave(node: FakeNode): void {
    node.state = 'down';
    this.trackOut();
    for (const c of this.shards) {
      if (c.relocatingTo === node.name) {
        c.relocatingTo = undefined;
        c.state = 'STARTED';
      }
      if (c.node !== node.name) continue;
      c.lastNode = node.name;
      c.node = null;
      c.state = 'UNASSIGNED';
      c.relocatingTo = undefined;
    }
    // Promote a started replica where a primary was lost.
    for (const c of this.shards.filter((x) => x.primary && x.state === 'UNASSIGNED')) {
      const replica = this.shards.find(
        (r) => !r.primary && r.table === c.table && r.schema === c.schema && r.shard === c.shard && this.active(r),
      );
      if (replica) {
        replica.primary = true;
        c.primary = false;
      }
    }
    if (this.masterName === node.name) this.masterName = null;
    this.elect();
    this.check();
    this.kick();
  }

  /** Start background allocation steps until nothing is left to do. */
  private kick(): void {
    if (this.ticking || this.closed) return;
    this.ticking = true;
    void (async () => {
      try {
        while (!this.closed && this.allocateStep()) {
          await this.sleep(this.options.stepMs);
        }
      } catch {
        // closed
      } finally {
        this.ticking = false;
      }
    })();
  }

  /** One allocation step; false when nothing changed. */
  private allocateStep(): boolean {
    let changed = false;
    const allocation = this.allocation();
    for (const c of this.shards) {
      if (c.state === 'INITIALIZING' && c.node && this.nodes.get(c.node)?.state !== 'down') {
        c.state = 'STARTED';
        changed = true;
      } else if (c.state === 'INITIALIZING') {
        c.state = 'UNASSIGNED';
        c.node = null;
        changed = true;
      }
    }
    for (const c of this.shards) {
      if (c.state !== 'UNASSIGNED') continue;
      const allowed = allocation === 'all' || (c.primary && allocation !== 'none');
      if (!allowed) continue;
      const holders = new Set(
        this.shards
          .filter((x) => x.table === c.table && x.schema === c.schema && x.shard === c.shard && x.node)
          .map((x) => x.node),
      );
      const candidates = this.upNodes().filter((n) => !holders.has(n.name));
      if (c.primary) {
        // A lost primary recovers only where its data is: the node that held it.
        const home = candidates.find((n) => n.name === c.lastNode);
        if (!home) continue;
        c.node = home.name;
      } else {
        const target = candidates.find((n) => n.name === c.lastNode) ?? candidates[0];
        if (!target) continue;
        c.node = target.name;
      }
      c.state = 'INITIALIZING';
      // Back on the node that holds its data: operation-based (retention leases); anywhere else: a file copy.
      const home = c.node === c.lastNode;
      this.copies.push({
        at: this.clock.now(),
        table: `${c.schema}.${c.table}`,
        shard: c.shard,
        node: c.node,
        kind: home ? 'operations' : 'file',
        reason: 'recovery',
        bytes: home ? 0 : c.size,
      });
      changed = true;
    }
    this.check();
    return changed || this.shards.some((c) => c.state === 'INITIALIZING');
  }

  private async sleep(ms: number): Promise<void> {
    const ac = new AbortController();
    this.aborts.add(ac);
    try {
      await this.clock.delay(ms, ac.signal);
    } finally {
      this.aborts.delete(ac);
    }
  }

  /** The graceful stop of one node (CrateDB's documented behaviour). */
  private readonly drains = new Map<string, number>();

  private async decommission(node: FakeNode): Promise<void> {
    node.state = 'draining';
    this.trackOut();
    const generation = (this.drains.get(node.name) ?? 0) + 1;
    this.drains.set(node.name, generation);
    // This graceful stop is over when the node stopped otherwise (killed) or another one started.
    const stale = () => node.state !== 'draining' || this.drains.get(node.name) !== generation;
    this.decommissions.push({ node: node.name, at: this.clock.now() });
    const minAvailability = String(this.setting('cluster.graceful_stop.min_availability') ?? 'primaries').toLowerCase();
    const timeoutMs = parseTimeValue(this.setting('cluster.graceful_stop.timeout')) ?? 2 * 3600_000;
    const force =
      (this.setting('cluster.graceful_stop.force') === true ||
        this.setting('cluster.graceful_stop.force') === 'true') &&
      !this.options.abortsStopOnTimeout;
    const deadline = this.clock.now() + timeoutMs;
    try {
      for (;;) {
        if (this.closed || stale()) return;
        const mine = this.shards.filter((c) => c.node === node.name);
        const relocating = this.shards.some((c) => c.state === 'RELOCATING' || c.state === 'INITIALIZING');
        const health = this.health();
        const done =
          minAvailability === 'none' ||
          (minAvailability === 'primaries' && !mine.some((c) => c.primary) && !relocating && health !== 'RED') ||
          (minAvailability === 'full' && mine.length === 0 && !relocating && health === 'GREEN');
        if (done) break;
        if (this.clock.now() >= deadline) {
          if (force || this.options.exitOnTimeoutWithoutForce) break;
          node.state = 'up'; // aborted: accepts SQL again and stays up
          return;
        }
        this.drainStep(node, minAvailability);
        this.check();
        await this.sleep(this.options.stepMs);
      }
      // Then every activeCheckMs: no active request (exactly 0) -> exit exitDelayMs later; a leaked counter never
      // passes, so the node waits the whole timeout (observed on CrateDB 6.4.3).
      for (;;) {
        if (this.closed || stale()) return;
        if (this.activeRequests(node.name) === 0) break;
        if (this.clock.now() >= deadline) {
          if (force || this.options.exitOnTimeoutWithoutForce) break;
          node.state = 'up'; // "Aborting graceful shutdown": accepts SQL again
          return;
        }
        await this.sleep(Math.min(this.options.activeCheckMs, Math.max(1, deadline - this.clock.now())));
      }
      await this.sleep(this.options.exitDelayMs);
    } catch {
      return; // closed
    }
    if (stale()) return;
    this.leave(node);
    this.onNodeExit?.(node, 0);
  }

  /** Move shards away from a draining node, one step. */
  private drainStep(node: FakeNode, minAvailability: string): void {
    const allocation = this.allocation();
    // Finish relocations started in the previous step.
    for (const c of this.shards.filter((x) => x.state === 'RELOCATING' && x.relocatingTo)) {
      this.copies.push({
        at: this.clock.now(),
        table: `${c.schema}.${c.table}`,
        shard: c.shard,
        node: c.relocatingTo!,
        kind: 'file',
        reason: 'relocation',
        bytes: c.size,
      });
      c.node = c.relocatingTo!;
      c.relocatingTo = undefined;
      c.state = 'STARTED';
    }
    for (const c of this.shards.filter((x) => x.node === node.name && x.state === 'STARTED')) {
      const mayMove = c.primary
        ? allocation === 'all' || allocation === 'primaries'
        : allocation === 'all' && minAvailability === 'full';
      if (!mayMove) continue;
      if (!c.primary && minAvailability !== 'full') continue;
      const holders = new Set(
        this.shards
          .filter((x) => x.table === c.table && x.schema === c.schema && x.shard === c.shard)
          .flatMap((x) => [x.node, x.relocatingTo]),
      );
      const target = this.upNodes().find((n) => !holders.has(n.name));
      if (!target) continue;
      c.state = 'RELOCATING';
      c.relocatingTo = target.name;
    }
  }
}

/** CrateDB time value ('720s', '15m', '2h', '500ms', number = ms) to ms. */
export function parseTimeValue(v: unknown): number | null {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string') return null;
  const m = /^(\d+)(ms|s|m|h|d)?$/.exec(v.trim().toLowerCase());
  if (!m) return null;
  const n = Number(m[1]);
  const unit = m[2] ?? 'ms';
  const f = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[unit]!;
  return n * f;
}
