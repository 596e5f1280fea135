// A fake CrateDB-on-Kubernetes world: FakeKube + FakeCrateCluster wired together. A StatefulSet
// with N pods (optionally crate-operator style: sidecar first, labels, system user Secret, CrateDB
// resource), a dc_util preStop stand-in that decommissions through CrateDB, and nodes that join
// when their container starts and leave when it stops.
import type { V1Container, V1StatefulSet } from '@kubernetes/client-node';
import type { EngineDeps, LogFields, Logger, LogLevel } from '../../../shared/ports.js';
import type { CrateDBCluster, PodInfo, SqlEndpoint, StrategyDetection } from '../../../shared/schemas.js';
import { scaledClock, type TestClock } from './clock.js';
import { FakeCrateCluster, type FakeCrateOptions, type TableSpec } from './crate.js';
import { FakeKube, podIsReady, type FakeKubeOptions } from './kube.js';
import { FakeSqlFactory } from './sql.js';
import { VirtualClock } from '../virtual-clock.js';

/**
 * How a World's engine time runs. 'virtual': the discrete-event clock of test/support/virtual-clock.ts in auto mode
 * (time jumps to the next delay whenever the process is idle; a loaded machine changes nothing a test sees).
 * 'scaled': wall time `clockFactor` (default 1000) times faster (test/support/fakes/clock.ts).
 */
export type WorldTime = 'virtual' | 'scaled';

export interface WorldOptions {
  namespace?: string;
  /** StatefulSet name; default crate-data-hot-<cluster> under crate-operator, else "crate". */
  statefulSetName?: string;
  /** Cluster (crate-operator CrateDB) name. */
  clusterName?: string;
  replicas?: number;
  /** 'dc_util': the crate container's preStop runs dc_util; 'none': no lifecycle hook. */
  preStop?: 'dc_util' | 'none';
  /** dc_util command line (default "./dc_util-linux-amd64 -min-availability PRIMARIES -timeout 720s -proto http"). */
  dcUtilCommand?: string;
  /** With dc_util: also a postStart hook running dc_util --reset-routing (default true). */
  dcUtilPostStart?: boolean;
  terminationGracePeriodSeconds?: number | null;
  /** crate-operator layout: sql-exporter sidecar first, labels, Secret user-system-<name>, CrateDB resource. */
  operator?: boolean;
  /** CrateDB node name prefix; node name = <prefix>-<ordinal>. */
  nodePrefix?: string;
  tables?: TableSpec[];
  /** Engine ms between a container start and its node joining (then the pod turns Ready). */
  joinDelayMs?: number;
  /** Engine ms per real ms of the scaled clock (implies time 'scaled'). */
  clockFactor?: number;
  /** Virtual or scaled engine time (default 'virtual'; 'scaled' with clockFactor). */
  time?: WorldTime;
  /** A clock to use instead of the scaled one (e.g. test/support/virtual-clock.ts's discrete-event clock). */
  clock?: TestClock;
  kube?: FakeKubeOptions;
  crate?: FakeCrateOptions;
  stsLabels?: Record<string, string>;
  /**
   * crate-operator only: more node groups of the same cluster, each its own StatefulSet
   * (`crate-master-<cluster>` for name 'master', else `crate-data-<name>-<cluster>`), node names
   * `master-<n>` / `data-<name>-<n>`. With a master group, every data node gets -Cnode.master=false.
   */
  nodeGroups?: NodeGroup[];
}

export interface NodeGroup {
  name: string;
  replicas: number;
  preStop?: 'dc_util' | 'none';
}

interface GroupSts {
  statefulSetName: string;
  nodePrefix: string;
  replicas: number;
  preStop: 'dc_util' | 'none';
  group: string;
  /** -Cnode.master=<value>; null = not set (CrateDB's default: master-eligible). */
  master: boolean | null;
}

export interface LogLine {
  level: LogLevel;
  message: string;
  fields?: LogFields;
}

export interface MemoryLogger extends Logger {
  lines: LogLine[];
  text(): string;
}

export function memoryLogger(): MemoryLogger {
  const lines: LogLine[] = [];
  const log = (level: LogLevel, message: string, fields?: LogFields) => {
    lines.push({ level, message, ...(fields ? { fields } : {}) });
  };
  return {
    lines,
    text: () => lines.map((l) => `${l.level.toUpperCase()}: ${l.message}`).join('\n'),
    log,
    debug: (m, f) => log('debug', m, f),
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
  };
}

export const SYSTEM_PASSWORD = 's3cr3t-system-password';

export class World {
  readonly clock: TestClock;
  readonly kube: FakeKube;
  readonly crate: FakeCrateCluster;
  readonly sql: FakeSqlFactory;
  readonly log: MemoryLogger;
  readonly namespace: string;
  readonly clusterName: string;
  readonly statefulSetName: string;
  readonly replicas: number;
  readonly operator: boolean;
  readonly nodePrefix: string;
  readonly preStop: 'dc_util' | 'none';
  readonly terminationGracePeriodSeconds: number | null;
  readonly dcUtilCommand: string;
  readonly dcUtilPostStart: boolean;
  /** Engine ms between a container start and its node joining; tests may raise it to keep a pod unready. */
  joinDelayMs: number;
  /** Every StatefulSet of the world: the main one first, then options.nodeGroups. */
  readonly groups: GroupSts[];
  /** dc_util runs that failed before decommissioning (the pod then only got its SIGTERM). */
  readonly dcUtilFailures: { pod: string; reason: string }[] = [];
  /** Every dc_util preStop run that decommissions: the pod and the min_availability it used (label over flag). */
  readonly dcUtilRuns: { pod: string; minAvailability: string }[] = [];
  /** Crash-looping pods: name -> the pod uid whose container crashes before its node joins, or '*' for every incarnation. */
  readonly crashing = new Map<string, string>();
  /** The clock was made here (not options.clock): close() stops it. */
  private readonly ownsClock: boolean;

  constructor(options: WorldOptions = {}) {
    this.ownsClock = !options.clock;
    this.clock =
      options.clock ??
      ((options.time ?? (options.clockFactor !== undefined ? 'scaled' : 'virtual')) === 'virtual'
        ? new VirtualClock(undefined, { autoAdvance: true })
        : scaledClock(options.clockFactor ?? 1000));
    this.namespace = options.namespace ?? 'crate';
    this.operator = options.operator ?? false;
    this.clusterName = options.clusterName ?? (this.operator ? 'c1' : 'crate');
    this.statefulSetName = options.statefulSetName ?? (this.operator ? `crate-data-hot-${this.clusterName}` : 'crate');
    this.replicas = options.replicas ?? 3;
    this.nodePrefix = options.nodePrefix ?? 'data-hot';
    this.preStop = options.preStop ?? 'none';
    this.terminationGracePeriodSeconds =
      options.terminationGracePeriodSeconds === undefined
        ? this.operator
          ? 1200
          : 30
        : options.terminationGracePeriodSeconds;
    this.dcUtilCommand =
      options.dcUtilCommand ?? './dc_util-linux-amd64 -min-availability PRIMARIES -timeout 720s -proto http';
    this.dcUtilPostStart = options.dcUtilPostStart ?? true;
    this.joinDelayMs = options.joinDelayMs ?? 1000;
    const extra = this.operator ? (options.nodeGroups ?? []) : [];
    const hasMasters = extra.some((g) => g.name === 'master');
    this.groups = [
      {
        statefulSetName: this.statefulSetName,
        nodePrefix: this.nodePrefix,
        replicas: this.replicas,
        preStop: this.preStop,
        group: 'hot',
        master: hasMasters ? false : null,
      },
      ...extra.map((g) => ({
        statefulSetName:
          g.name === 'master' ? `crate-master-${this.clusterName}` : `crate-data-${g.name}-${this.clusterName}`,
        nodePrefix: g.name === 'master' ? 'master' : `data-${g.name}`,
        replicas: g.replicas,
        preStop: g.preStop ?? this.preStop,
        group: g.name,
        master: g.name === 'master' ? true : hasMasters ? false : null,
      })),
    ];
    this.kube = new FakeKube({ restartDelayMs: 10_000, ...options.kube, clock: this.clock, autoReady: false });
    this.crate = new FakeCrateCluster({ trustCrateFromNetwork: !this.operator, ...options.crate, clock: this.clock });
    this.sql = new FakeSqlFactory(this.kube, this.crate);
    this.log = memoryLogger();
    this.kube.hooks.exec = async (call) => {
      // SIGTERM to the container's main process (the stall break): the JVM closes the node at once (exit 143).
      if (call.container === 'crate' && call.command.join(' ') === 'sh -c kill -TERM 1') {
        this.crate.stopNode(this.nodeName(call.pod));
        this.kube.containerExited(call.namespace, call.pod, 'crate', 143);
        return { exitCode: 0, stdout: '', stderr: '' };
      }
      return this.sql.execHandler(call);
    };
    this.kube.hooks.execSession = this.sql.sessionHandler;
    this.kube.hooks.containerStarted = (ns, pod, container) => {
      if (container !== 'crate') return;
      const uid = pod.metadata!.uid!;
      const name = pod.metadata!.name!;
      void this.clock.delay(this.joinDelayMs).then(() => {
        const current = this.kube.pods.get(`${ns}/${name}`);
        const cs = current?.status?.containerStatuses?.find((c) => c.name === 'crate');
        if (!current || current.metadata!.uid !== uid || !cs?.state?.running) return;
        const crash = this.crashing.get(name);
        if (crash === '*' || crash === uid) {
          // Crash-looping: the process dies before its node joins; the kubelet restarts it in place.
          this.kube.containerExited(ns, name, 'crate', 1);
          return;
        }
        this.crate.joinNode(this.nodeName(name), name);
        const g = this.groupOf(name);
        if (
          g.preStop === 'dc_util' &&
          this.dcUtilPostStart &&
          !this.stsLabel('dc-util-routing-owner', g.statefulSetName)
        ) {
          // dc_util's postStart --reset-routing
          this.crate.resetSetting('cluster.routing.allocation.enable');
        }
        this.kube.setReady(ns, name, true);
      });
    };
    this.kube.hooks.containerStopped = (_ns, pod, container) => {
      if (container === 'crate') this.crate.stopNode(this.nodeName(pod.metadata!.name!));
    };
    this.kube.hooks.preStop = (ns, pod, container) => this.dcUtil(ns, pod.metadata!.name!, container);
    this.crate.onNodeExit = (node, exitCode) =>
      this.kube.containerExited(this.namespace, node.hostname, 'crate', exitCode);

    if (this.operator) {
      this.crate.addUser('system', SYSTEM_PASSWORD, false);
      this.kube.addSecret(this.namespace, `user-system-${this.clusterName}`, { password: SYSTEM_PASSWORD });
      this.kube.addCrateDB(this.namespace, this.clusterName, {
        apiVersion: 'cloud.crate.io/v1',
        kind: 'CrateDB',
        metadata: { name: this.clusterName, namespace: this.namespace },
        spec: {
          nodes: {
            data: [
              { name: 'hot', replicas: this.replicas },
              ...extra.filter((g) => g.name !== 'master').map((g) => ({ name: g.name, replicas: g.replicas })),
            ],
            ...(hasMasters ? { master: { replicas: extra.find((g) => g.name === 'master')!.replicas } } : {}),
          },
        },
      });
    }
    for (const g of this.groups)
      this.kube.addStatefulSet(this.buildStatefulSet(g === this.groups[0] ? (options.stsLabels ?? {}) : {}, g));
    this.pendingTables = options.tables ?? [{ name: 't1', shards: 6, replicas: 1 }];
  }

  private pendingTables: TableSpec[];

  /** Wait until every pod is Ready and every node joined; then create the tables. */
  async start(): Promise<this> {
    await this.waitFor(() => this.allPodNames().every((p) => podIsReady(this.kube.pods.get(`${this.namespace}/${p}`))));
    for (const t of this.pendingTables) this.crate.createTable(t);
    // Which node joined first (and became master) depends on timers; make it deterministic.
    if (this.replicas > 0) this.crate.masterName = this.nodeName(this.podNames()[0]!);
    return this;
  }

  private closed = false;

  close(): void {
    this.closed = true;
    this.sql.close();
    this.kube.close();
    this.crate.close();
    if (this.clock instanceof VirtualClock && this.ownsClock) this.clock.stop();
  }

  podNames(): string[] {
    return Array.from({ length: this.replicas }, (_, i) => `${this.statefulSetName}-${i}`);
  }

  /** The pods of every StatefulSet (the main one first). */
  allPodNames(): string[] {
    return this.groups.flatMap((g) => Array.from({ length: g.replicas }, (_, i) => `${g.statefulSetName}-${i}`));
  }

  private groupOf(podName: string): GroupSts {
    const sts = podName.slice(0, podName.lastIndexOf('-'));
    return this.groups.find((g) => g.statefulSetName === sts) ?? this.groups[0]!;
  }

  nodeName(podName: string): string {
    return `${this.groupOf(podName).nodePrefix}-${podName.slice(podName.lastIndexOf('-') + 1)}`;
  }

  /**
   * Make a pod crash-loop (a bad config): its node leaves the cluster, the container exits and restarts in
   * place without ever joining, the pod stays unready. The re-created pod (after a delete) is healthy,
   * unless `recreated: 'crashes'`.
   */
  crashLoop(podName: string, opts: { recreated?: 'healthy' | 'crashes' } = {}): void {
    this.crashing.set(podName, opts.recreated === 'crashes' ? '*' : this.podUid(podName)!);
    this.crate.stopNode(this.nodeName(podName));
    this.kube.containerExited(this.namespace, podName, 'crate', 1);
  }

  podUid(podName: string): string | undefined {
    return this.kube.pods.get(`${this.namespace}/${podName}`)?.metadata?.uid;
  }

  deps(extra: Partial<EngineDeps> = {}): EngineDeps {
    // Lease TTL 600 s: at 1000x, 60 s would fence a run itself (no renewal for 40 ms real) whenever a loaded machine
    // stalls the event loop that long; the Lease tests use short TTLs on purpose.
    return {
      kube: this.kube,
      sql: this.sql,
      clock: this.clock,
      log: this.log,
      pollIntervalMs: 1000,
      holderIdentity: 'test-runner',
      leaseDurationSeconds: 600,
      ...extra,
    };
  }

  /**
   * Poll until cond() holds, at most `realMs` of real time (generous: machines under load stall). On the virtual clock
   * cond is checked at every idle point, before the next delay fires: no engine time passes once it holds.
   */
  async waitFor(cond: () => boolean, realMs = 10_000): Promise<void> {
    if (this.clock instanceof VirtualClock && this.clock.autoAdvances)
      return this.clock.until(cond, realMs).catch((err: Error) => {
        throw err.message.includes('timed out') ? new Error('World.waitFor timed out') : err;
      });
    const deadline = performance.now() + realMs;
    while (!cond()) {
      if (performance.now() > deadline) throw new Error('World.waitFor timed out');
      await new Promise((r) => setTimeout(r, 1));
    }
  }

  /** What detection would say about this world's StatefulSet (independent of shared/detect/). */
  detection(): StrategyDetection {
    const dc = this.preStop === 'dc_util';
    const flag = Number(/-timeout[= ](\d+)s/.exec(this.dcUtilCommand)?.[1] ?? 7200);
    const grace = this.terminationGracePeriodSeconds;
    const effective = grace === null || grace === 30 ? flag : Math.max(grace - 120, 360);
    const skips = this.replicas <= 1;
    return {
      strategy: dc && !skips ? 'kubernetes_managed' : 'manual',
      hasPrestopHook: dc,
      hasDcUtil: dc,
      dcUtilTimeoutSeconds: effective,
      dcUtilFlagTimeoutSeconds: flag,
      terminationGracePeriodSeconds: grace,
      deleteGracePeriodSeconds: Math.max(effective + 60, grace ?? 0),
      minAvailability: 'PRIMARIES',
      dcUtilWillNotDecommission: dc && skips,
      containerName: 'crate',
      reasons: [dc ? 'dc_util found in the preStop hook of container crate' : 'no preStop hook on container crate'],
    };
  }

  endpoint(): SqlEndpoint {
    return {
      transport: 'auto',
      scheme: 'http',
      port: 4200,
      caSecret: null,
      insecureSkipTlsVerify: false,
      credentials: this.operator
        ? { username: 'system', secretName: `user-system-${this.clusterName}`, passwordKey: 'password' }
        : null,
      superuser: this.operator ? false : null,
    };
  }

  /** A CrateDBCluster built from the fakes' state, without discovery (for activity tests). */
  clusterModel(): CrateDBCluster {
    const sts = this.kube.statefulSets.get(`${this.namespace}/${this.statefulSetName}`)!;
    const detection = this.detection();
    const masterName = this.crate.masterName;
    const pods: PodInfo[] = this.podNames().map((name, ordinal) => {
      const p = this.kube.pods.get(`${this.namespace}/${name}`);
      const cs = p?.status?.containerStatuses?.find((c) => c.name === 'crate');
      return {
        name,
        uid: p?.metadata?.uid ?? '',
        statefulSetName: this.statefulSetName,
        ordinal,
        nodeName: this.nodeName(name),
        nodeId: this.crate.node(this.nodeName(name))?.id ?? null,
        podIP: p?.status?.podIP ?? null,
        ready: podIsReady(p),
        phase: p?.status?.phase ?? null,
        restartCount: cs?.restartCount ?? 0,
        containerName: 'crate',
        isMaster: masterName === this.nodeName(name),
        deleting: !!p?.metadata?.deletionTimestamp,
      };
    });
    return {
      name: this.clusterName,
      namespace: this.namespace,
      crateDBName: this.operator ? this.clusterName : null,
      statefulSetName: this.statefulSetName,
      statefulSets: [
        {
          name: this.statefulSetName,
          uid: sts.metadata!.uid!,
          replicas: this.replicas,
          selector: Object.entries(sts.spec!.selector.matchLabels!)
            .map(([k, v]) => `${k}=${v}`)
            .join(','),
          labels: { ...(sts.metadata!.labels ?? {}) },
          detection,
        },
      ],
      pods,
      expectedNodes: this.replicas,
      health: this.crate.health(),
      masterNode: masterName,
      hasPrestopHook: detection.hasPrestopHook,
      hasDcUtil: detection.hasDcUtil,
      dcUtilTimeout: detection.dcUtilTimeoutSeconds,
      sql: this.endpoint(),
    };
  }

  private stsLabel(name: string, statefulSetName = this.statefulSetName): string | undefined {
    return this.kube.statefulSets.get(`${this.namespace}/${statefulSetName}`)?.metadata?.labels?.[name];
  }

  private buildStatefulSet(extraLabels: Record<string, string>, g: GroupSts): V1StatefulSet {
    const selector: Record<string, string> = this.operator
      ? {
          'app.kubernetes.io/managed-by': 'crate-operator',
          'app.kubernetes.io/name': this.clusterName,
          'app.kubernetes.io/component': 'cratedb',
          'cloud.crate.io/node-name': g.group,
        }
      : { app: g.statefulSetName };
    const crate: V1Container = {
      name: 'crate',
      image: 'crate:6.1.0',
      command: ['/docker-entrypoint.sh', 'crate'],
      args: [
        `-Cnode.name=${g.nodePrefix}-$(hostname | awk -F- '{print $NF}')`,
        `-Ccluster.name=${this.clusterName}`,
        ...(g.master === null ? [] : [`-Cnode.master=${g.master}`, `-Cnode.data=${!g.master}`]),
      ],
      ports: [
        { name: 'http', containerPort: 4200 },
        { name: 'postgres', containerPort: 5432 },
        { name: 'transport', containerPort: 4300 },
      ],
      ...(g.preStop === 'dc_util'
        ? {
            lifecycle: {
              // dc_util derives the node name from its -crate-node-prefix (default data-hot)
              preStop: { exec: { command: ['/bin/sh', '-c', this.dcUtilCommandFor(g)] } },
              ...(this.dcUtilPostStart
                ? {
                    postStart: {
                      exec: { command: ['/bin/sh', '-c', `${this.dcUtilCommand.split(' ')[0]} --reset-routing`] },
                    },
                  }
                : {}),
            },
          }
        : {}),
    };
    const containers: V1Container[] = this.operator
      ? [{ name: 'sql-exporter', image: 'githubfree/sql_exporter:0.5', ports: [{ containerPort: 9399 }] }, crate]
      : [crate];
    return {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: g.statefulSetName, namespace: this.namespace, labels: { ...selector, ...extraLabels } },
      spec: {
        replicas: g.replicas,
        serviceName: `crate-discovery-${this.clusterName}`,
        podManagementPolicy: 'Parallel',
        updateStrategy: { type: this.operator ? 'OnDelete' : 'RollingUpdate' },
        selector: { matchLabels: selector },
        template: {
          metadata: { labels: { ...selector } },
          spec: {
            containers,
            ...(this.terminationGracePeriodSeconds !== null
              ? { terminationGracePeriodSeconds: this.terminationGracePeriodSeconds }
              : {}),
          },
        },
      },
    };
  }

  /**
   * The preStop command line of a group: dc_util derives the node name from -crate-node-prefix (default data-hot, which
   * needs a hostname crate-data-hot-...-<n>); for a plain StatefulSet name the hook passes such a -hostname itself.
   */
  private dcUtilCommandFor(g: GroupSts): string {
    if (g.nodePrefix !== 'data-hot') return `${this.dcUtilCommand} -crate-node-prefix ${g.nodePrefix}`;
    if (/^crate-data-hot-.+-\d+$/.test(`${g.statefulSetName}-0`) && g.statefulSetName.split('-').length >= 4)
      return this.dcUtilCommand;
    return `${this.dcUtilCommand} -hostname "crate-data-hot-w-\${HOSTNAME##*-}"`;
  }

  /** The dc_util stand-in (dc_util's own source): decommission this node, wait until it is gone. */
  private async dcUtil(ns: string, podName: string, container: V1Container): Promise<void> {
    const cmd = (container.lifecycle?.preStop?.exec?.command ?? []).join(' ');
    if (!/dc_util/.test(cmd)) return;
    const sts = this.kube.statefulSets.get(`${ns}/${this.groupOf(podName).statefulSetName}`);
    if (!sts || (sts.spec?.replicas ?? 0) <= 1 || /^true$/i.test(sts.metadata?.labels?.['dc-util-disabled'] ?? ''))
      return;
    const flag = Number(/-?-timeout[= ](\d+)s/.exec(cmd)?.[1] ?? 7200);
    // The StatefulSet label overrides the flag when it is exactly NONE, PRIMARIES or FULL (dc_util's own source).
    const label = sts.metadata?.labels?.['dc-util-min-availability'];
    const minAvailability =
      label && ['NONE', 'PRIMARIES', 'FULL'].includes(label)
        ? label
        : (/-?-min-availability[= ](\w+)/.exec(cmd)?.[1] ?? 'FULL');
    this.dcUtilRuns.push({ pod: podName, minAvailability: minAvailability.toUpperCase() });
    // dc_util posts to <proto>://127.0.0.1:4200 (default https): against the other scheme it cannot connect and
    // exits 1 without a decommission (observed on CrateDB 6.4.3); the pod then only gets its SIGTERM.
    const proto = /-?-proto[= ](\w+)/.exec(cmd)?.[1]?.toLowerCase() ?? 'https';
    if (proto !== this.crate.options.httpScheme) {
      this.dcUtilFailures.push({
        pod: podName,
        reason: `-proto ${proto} against a ${this.crate.options.httpScheme} port`,
      });
      return;
    }
    const grace = sts.spec?.template.spec?.terminationGracePeriodSeconds ?? null;
    const effective = grace === null || grace === 30 ? flag : Math.max(grace - 120, 360);
    const node = this.nodeName(podName);
    const run = (stmt: string, args: unknown[] = []) =>
      this.crate.query(node, { user: 'crate', password: null }, 'exec', stmt, args);
    if (!sts.metadata?.labels?.['dc-util-routing-owner']) {
      await run(`SET GLOBAL TRANSIENT "cluster.routing.allocation.enable" = 'primaries'`);
    }
    await run(`SET GLOBAL TRANSIENT "cluster.graceful_stop.timeout" = '${effective}s'`);
    await run(`SET GLOBAL TRANSIENT "cluster.graceful_stop.force" = true`);
    await run(`SET GLOBAL TRANSIENT "cluster.graceful_stop.min_availability" = '${minAvailability.toUpperCase()}'`);
    await run(`ALTER CLUSTER DECOMMISSION ?`, [node]);
    while (this.crate.node(node)?.state !== 'down' && !this.closed) await this.clock.delay(200);
  }
}

export async function createWorld(options: WorldOptions = {}): Promise<World> {
  return new World(options).start();
}
