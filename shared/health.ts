// The health gate: named checks (ECK style) read through a node that is not being drained, N
// consecutive good readings intervalSeconds apart, waiting up to timeoutSeconds for recovery.
import { ClusterSql, worstHealth, type HealthRow, type NodeRow } from './cluster-sql.js';
import { messageOf } from './errors.js';
import type { EngineDeps } from './ports.js';
import {
  HealthCheckInput,
  type CrateDBCluster,
  type DegradedHealth,
  type HealthCheckResult,
  type HealthStatus,
  type NamedCheck,
  type PodInfo,
} from './schemas.js';
import { DEFAULT_HEARTBEAT_MS, abortReason, backoffMs, podReady, startHeartbeat } from './wait.js';
import { emitEvent, EventReason } from './events.js';

/** The first re-read after a failed reading (then doubling up to the gate's interval). */
export const HEALTH_RETRY_FIRST_MS = 250;

/** Names of the checks, in the order they are reported. */
export const HealthCheckName = {
  sqlReachable: 'sql_reachable',
  allTablesGreen: 'all_tables_green',
  nodeCountMatchesReplicas: 'node_count_matches_replicas',
  masterElected: 'master_elected',
  noRelocatingShards: 'no_relocating_shards',
  noInitializingShards: 'no_initializing_shards',
  /** No CREATE SNAPSHOT running (sys.jobs); never explained by unready pods. */
  noSnapshotRunning: 'no_snapshot_running',
} as const;

/** What one reading of the cluster saw through a node that is not being drained: the input of every health check. */
export interface HealthReading {
  /** The pod that answered. */
  answeredBy: string | null;
  rows: HealthRow[];
  healthStatus: HealthStatus;
  /** sys.nodes without the nodes whose pod is terminating. */
  nodes: NodeRow[];
  /** sys.nodes rows whose pod is terminating (not counted). */
  leaving: NodeRow[];
  expectedNodes: number;
  masterNode: string | null;
  relocating: number;
  initializing: number;
  snapshots: { count: number } | { unreadable: string };
}

/** What unready pods whose node left the cluster explain in a failed check (ECK's degraded pre-flight). */
interface UnreadyExplanation {
  /** `unready pod(s) <names>`. */
  unreadyText: string;
  expectedNodes: number;
}

/**
 * One named health check (ECK style): `evaluate` reads a reading; `explainableByUnready` says whether unready pods
 * whose node is not in the cluster can explain its failure, and if so the sentence that explains it.
 */
interface HealthCheck {
  name: string;
  evaluate(reading: HealthReading): { ok: boolean; message: string };
  explainableByUnready: false | ((reading: HealthReading, why: UnreadyExplanation) => string);
}

/** The health checks, in the order they are reported. */
export const HEALTH_CHECKS: readonly HealthCheck[] = [
  {
    name: HealthCheckName.sqlReachable,
    evaluate: (r) => ({ ok: true, message: `answered by pod ${r.answeredBy ?? '?'}` }),
    explainableByUnready: false,
  },
  {
    name: HealthCheckName.allTablesGreen,
    evaluate: (r) => ({
      ok: r.healthStatus === 'GREEN',
      message: r.healthStatus === 'GREEN' ? `${r.rows.length} tables/partitions GREEN` : describeTables(r.rows),
    }),
    // YELLOW only: the caller refuses a RED cluster first (a missing primary is never explained).
    explainableByUnready: (r, why) => `${r.healthStatus} explained by the missing replicas of ${why.unreadyText}`,
  },
  {
    name: HealthCheckName.nodeCountMatchesReplicas,
    evaluate: (r) => {
      const notCounted = r.leaving.length
        ? ` (not counted: ${r.leaving.map((n) => `${n.name}, pod ${n.hostname} is terminating`).join('; ')})`
        : '';
      return {
        ok: r.nodes.length === r.expectedNodes,
        message: `${r.nodes.length} nodes in the cluster, ${r.expectedNodes} expected${notCounted}`,
      };
    },
    explainableByUnready: (r, why) => `${r.nodes.length}/${why.expectedNodes} explained by ${why.unreadyText}`,
  },
  {
    name: HealthCheckName.masterElected,
    evaluate: (r) => ({
      ok: r.masterNode !== null,
      message: r.masterNode ? `master is ${r.masterNode}` : 'no master node elected',
    }),
    explainableByUnready: false,
  },
  {
    name: HealthCheckName.noRelocatingShards,
    evaluate: (r) => ({ ok: r.relocating === 0, message: `${r.relocating} shards relocating` }),
    explainableByUnready: false,
  },
  {
    name: HealthCheckName.noInitializingShards,
    evaluate: (r) => ({ ok: r.initializing === 0, message: `${r.initializing} shards initializing` }),
    explainableByUnready: (r) => `${r.initializing} shards initializing (recovery)`,
  },
  {
    name: HealthCheckName.noSnapshotRunning,
    evaluate: (r) =>
      'count' in r.snapshots
        ? {
            ok: r.snapshots.count === 0,
            message:
              r.snapshots.count === 0
                ? 'no snapshot running'
                : `${r.snapshots.count} CREATE SNAPSHOT ${r.snapshots.count === 1 ? 'statement' : 'statements'} running`,
          }
        : { ok: true, message: `could not be read, counted as passed (sys.jobs: ${r.snapshots.unreadable})` },
    explainableByUnready: false,
  },
];

/** A reading and the checks evaluated on it; `reading` is null when CrateDB could not be read at all. */
interface Reading {
  checks: NamedCheck[];
  reading: HealthReading | null;
  healthStatus: HealthStatus;
  nodeCount: number;
  masterNode: string | null;
  relocating: number;
  initializing: number;
  error: string | null;
  nodes: NodeRow[];
}

function describeTables(rows: HealthRow[]): string {
  const bad = rows.filter((r) => r.health !== 'GREEN');
  const shown = bad
    .slice(0, 5)
    .map(
      (r) =>
        `${r.schema}.${r.table}${r.partition ? `[${r.partition}]` : ''} ${r.health} (missing ${r.missingShards}, underreplicated ${r.underreplicatedShards})`,
    );
  return `${shown.join(', ')}${bad.length > 5 ? ` and ${bad.length - 5} more` : ''}`;
}

/**
 * Nodes whose pod is being deleted (deletionTimestamp set): the node may still be in sys.nodes while dc_util (or
 * anything else) drains it, but it is on its way out and must not count as a member. Every sys.nodes hostname is
 * looked up as a pod of the namespace, not only the target StatefulSet's pods: a terminating pod of another node
 * group of the same cluster (crate-master-..., crate-data-cold-...) leaves too (issue 8 item 5).
 */
async function terminatingPods(deps: EngineDeps, cluster: CrateDBCluster, hostnames: string[]): Promise<Set<string>> {
  const names = new Set<string>();
  for (const hostname of new Set(hostnames)) {
    try {
      const live = await deps.kube.getPod(cluster.namespace, hostname);
      if (live?.metadata?.deletionTimestamp) names.add(hostname);
    } catch (err) {
      if (deps.signal?.aborted) throw abortReason(deps.signal);
      deps.log.debug(`Could not read pod ${cluster.namespace}/${hostname} for the health gate: ${messageOf(err)}`);
    }
  }
  return names;
}

async function readOnce(
  reader: ClusterSql,
  expectedNodes: number,
  signal: AbortSignal | undefined,
  terminatingOf: (hostnames: string[]) => Promise<Set<string>>,
): Promise<Reading> {
  try {
    const all = await reader.nodes(signal);
    const terminating = await terminatingOf(all.map((n) => n.hostname));
    const masterId = await reader.masterNodeId(signal);
    const rows = await reader.healthRows(signal);
    const states = await reader.shardStates(signal);
    const snapshots = await reader.runningSnapshots(signal);
    const reading: HealthReading = {
      answeredBy: reader.currentPod ?? null,
      rows,
      healthStatus: worstHealth(rows),
      nodes: all.filter((n) => !terminating.has(n.hostname)),
      leaving: all.filter((n) => terminating.has(n.hostname)),
      expectedNodes,
      masterNode: masterId === null ? null : (all.find((n) => n.id === masterId)?.name ?? masterId),
      relocating: states.get('RELOCATING') ?? 0,
      initializing: states.get('INITIALIZING') ?? 0,
      snapshots,
    };
    const checks: NamedCheck[] = HEALTH_CHECKS.map((check) => ({ name: check.name, ...check.evaluate(reading) }));
    return {
      checks,
      reading,
      healthStatus: reading.healthStatus,
      nodeCount: reading.nodes.length,
      masterNode: reading.masterNode,
      relocating: reading.relocating,
      initializing: reading.initializing,
      error: null,
      nodes: all,
    };
  } catch (err) {
    if (signal?.aborted) throw abortReason(signal);
    const message = messageOf(err);
    return {
      checks: [{ name: HealthCheckName.sqlReachable, ok: false, message }],
      reading: null,
      healthStatus: 'UNKNOWN',
      nodeCount: 0,
      masterNode: null,
      relocating: 0,
      initializing: 0,
      error: message,
      nodes: [],
    };
  }
}

const plural = (n: number, word: string) => `${word}${n === 1 ? '' : 's'}`;

/**
 * ECK-style degraded pre-flight: are ALL failed checks of `reading` explained by pods of `tolerate` that
 * are unready and whose CrateDB node is not in sys.nodes? Such a pod holds no shard the cluster relies on,
 * so restarting it cannot reduce availability. Explained: the node count (exactly expected - those pods),
 * YELLOW (their replicas are missing; never RED: a missing primary refuses), initializing shards (recovery).
 * Never explained: the checks of HEALTH_CHECKS whose explainableByUnready is false (an unreachable cluster, no
 * master, relocating shards, a running snapshot). Returns the explanation, or why not.
 */
async function explainDegraded(
  deps: EngineDeps,
  cluster: CrateDBCluster,
  reading: Pick<Reading, 'checks' | 'reading' | 'healthStatus' | 'nodeCount' | 'nodes'>,
  tolerate: string[],
): Promise<{ degraded: DegradedHealth } | { reason: string }> {
  const failed = reading.checks.filter((c) => !c.ok);
  if (failed.length === 0) return { reason: '' };
  // A pod that is not there cannot be restarted first; a Ready one is not what this is for.
  const unready: PodInfo[] = [];
  for (const name of tolerate) {
    const info = cluster.pods.find((p) => p.name === name);
    if (!info) continue;
    const live = await deps.kube.getPod(cluster.namespace, name);
    if (live && !podReady(live)) unready.push(info);
  }
  // Nothing to explain with: an ordinary unhealthy cluster (no reason worth reporting).
  if (unready.length === 0) return { reason: '' };
  const explainer = (name: string) => HEALTH_CHECKS.find((check) => check.name === name)?.explainableByUnready ?? false;
  const hard = failed.filter((c) => explainer(c.name) === false);
  if (hard.length > 0)
    return { reason: `${hard.map((c) => c.name).join(', ')} failed (never explained by unready pods)` };
  if (reading.healthStatus !== 'GREEN' && reading.healthStatus !== 'YELLOW') {
    return { reason: `health is ${reading.healthStatus} (a missing primary is never explained by unready pods)` };
  }
  const absent = unready
    .filter(
      (info) =>
        !reading.nodes.some((n) => n.hostname === info.name || (info.nodeName !== null && n.name === info.nodeName)),
    )
    .map((info) => info.name);
  if (absent.length === 0)
    return {
      reason: `the unready ${plural(unready.length, 'pod')} ${unready.map((p) => p.name).join(', ')} still ${unready.length === 1 ? 'has its node' : 'have their nodes'} in the cluster`,
    };
  const expected = cluster.expectedNodes;
  const unreadyText = `unready ${plural(absent.length, 'pod')} ${absent.join(', ')}`;
  if (reading.nodeCount !== expected - absent.length) {
    return {
      reason: `${reading.nodeCount}/${expected} nodes, but ${unreadyText} ${absent.length === 1 ? 'explains' : 'explain'} ${absent.length} missing`,
    };
  }
  const explained: NamedCheck[] = failed.map((c) => {
    const explain = explainer(c.name);
    if (explain === false || !reading.reading) return { name: c.name, ok: false, message: c.message };
    return { name: c.name, ok: true, message: explain(reading.reading, { unreadyText, expectedNodes: expected }) };
  });
  const unexplained = explained.filter((c) => !c.ok);
  if (unexplained.length > 0)
    return { reason: `${unexplained.map((c) => c.name).join(', ')} not explained by unready pods` };
  return {
    degraded: {
      pods: absent,
      explained,
      message: `degraded - only ${unreadyText} may restart first (${explained.map((c) => `${c.name}: ${c.message}`).join('; ')})`,
    },
  };
}

/**
 * Check the cluster's health. Healthy = `consecutive` good readings in a row. With timeoutSeconds
 * 0 the first bad reading decides (pre-flight); otherwise bad readings restart the count until
 * the timeout. Never throws for an unhealthy cluster; an abort rejects.
 */
export async function checkClusterHealth(deps: EngineDeps, rawInput: HealthCheckInput): Promise<HealthCheckResult> {
  const input = HealthCheckInput.parse(rawInput);
  const { cluster } = input;
  const reader = new ClusterSql(deps, cluster);
  const intervalMs = input.intervalSeconds * 1000;
  const deadlineMs = deps.clock.now() + input.timeoutSeconds * 1000;
  let good = 0;
  /**
   * What the readings in the current run are: 'good' (every check passed) or the degraded pods' names. Only
   * readings of the same kind count toward `consecutive`: a tolerated degraded reading never counts toward the
   * good ones (a node that just rejoined would otherwise pass the gate after one good reading), and a good
   * reading does not count toward a degraded pass.
   */
  let kind: string | null = null;
  let lastFailed = '';
  /** Failed readings in a row (the backoff of the re-read). */
  let retries = 0;
  // A gate that waits (not the pre-flight's single reading) beats like every other wait.
  const sts = cluster.statefulSets[0]?.name;
  const stopBeat =
    input.timeoutSeconds > 0
      ? startHeartbeat(
          {
            log: deps.log,
            what: `cluster ${cluster.namespace}/${cluster.name} to pass the health gate (${input.consecutive} good readings in a row)`,
            intervalMs: deps.heartbeatMs ?? DEFAULT_HEARTBEAT_MS,
            state: async () => ({
              text: lastFailed ? `now ${lastFailed}` : `${good}/${input.consecutive} good readings`,
              fields: { goodReadings: good, failing: lastFailed || null },
            }),
            ...(sts
              ? {
                  onLong: (line: string) =>
                    emitEvent(
                      deps,
                      { kind: 'StatefulSet', name: sts, namespace: cluster.namespace },
                      EventReason.WaitingLong,
                      line,
                    ),
                }
              : {}),
          },
          {
            clock: deps.clock,
            timeoutMs: input.timeoutSeconds * 1000,
            ...(deps.signal ? { signal: deps.signal } : {}),
          },
        )
      : () => {};
  try {
    for (;;) {
      if (deps.signal?.aborted) throw abortReason(deps.signal);
      const readingStartedAt = deps.clock.monotonic?.() ?? deps.clock.now();
      const reading = await readOnce(reader, cluster.expectedNodes, deps.signal, (hostnames) =>
        terminatingPods(deps, cluster, hostnames),
      );
      const failed = reading.checks.filter((c) => !c.ok).map((c) => c.name);
      let degraded: DegradedHealth | null = null;
      let notDegraded = '';
      if (failed.length > 0 && input.tolerateUnready.length > 0) {
        const why = await explainDegraded(deps, cluster, reading, input.tolerateUnready);
        if ('degraded' in why) degraded = why.degraded;
        else notDegraded = why.reason;
      }
      const readingKind =
        failed.length === 0 ? 'good' : degraded ? `degraded:${[...degraded.pods].sort().join(',')}` : null;
      if (readingKind === null) good = 0;
      else good = readingKind === kind ? good + 1 : 1;
      kind = readingKind;
      const done = good >= input.consecutive;
      const giveUp = failed.length > 0 && !degraded && (input.timeoutSeconds === 0 || deps.clock.now() >= deadlineMs);
      if (degraded) {
        const summary = `degraded: ${degraded.message}`;
        if (summary !== lastFailed)
          deps.log.info(`Cluster ${cluster.namespace}/${cluster.name} health ${summary}`, {
            failedChecks: failed,
            degradedPods: degraded.pods,
          });
        lastFailed = summary;
      } else if (failed.length > 0) {
        const summary = reading.checks
          .filter((c) => !c.ok)
          .map((c) => `${c.name} (${c.message})`)
          .join(', ');
        if (summary !== lastFailed)
          deps.log.info(`Waiting for cluster ${cluster.namespace}/${cluster.name} health: ${summary}`, {
            failedChecks: failed,
          });
        lastFailed = summary;
      } else {
        deps.log.debug(`Cluster ${cluster.namespace}/${cluster.name} health reading ${good}/${input.consecutive} good`);
      }
      if (done || giveUp) {
        return {
          healthy: done && failed.length === 0,
          healthStatus: reading.healthStatus,
          checks: reading.checks,
          failedChecks: failed,
          nodeCount: reading.nodeCount,
          expectedNodes: cluster.expectedNodes,
          masterNode: reading.masterNode,
          relocatingShards: reading.relocating,
          initializingShards: reading.initializing,
          goodReadings: good,
          checkedAt: new Date(deps.clock.now()).toISOString(),
          error: done
            ? null
            : `Cluster ${cluster.namespace}/${cluster.name} is not healthy: failed checks ${failed.join(', ')}${notDegraded ? ` (not explained by unready pods: ${notDegraded})` : ''}`,
          degraded: done && failed.length > 0 ? degraded : null,
          ...(!done && notDegraded ? { notExplainedByUnready: notDegraded } : {}),
        };
      }
      // A reading that counts is followed by the next one intervalMs after it began (start to start: the gate's
      // spacing, not spacing plus the reading's own statements; on the monotonic clock, so a wall-clock step cannot
      // stretch the pause beyond intervalMs). One that does not (a check failed) is read again
      // sooner, with a backoff from HEALTH_RETRY_FIRST_MS up to intervalMs: the recovery it waits for (a rejoined
      // node's replicas) is often over within moments, and the good readings that pass the gate are still
      // `consecutive` in a row, intervalMs apart.
      const pauseMs =
        readingKind === null
          ? backoffMs(retries++, HEALTH_RETRY_FIRST_MS, intervalMs)
          : Math.min(
              intervalMs,
              Math.max(0, intervalMs - ((deps.clock.monotonic?.() ?? deps.clock.now()) - readingStartedAt)),
            );
      if (readingKind !== null) retries = 0;
      await deps.clock.delay(pauseMs, deps.signal);
    }
  } finally {
    stopBeat();
  }
}
