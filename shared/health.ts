// The health gate: named checks (ECK style) read through a node that is not being drained, N
// consecutive good readings intervalSeconds apart, waiting up to timeoutSeconds for recovery.
import { ClusterSql, worstHealth, type HealthRow } from './cluster-sql.js';
import { messageOf } from './errors.js';
import type { EngineDeps } from './ports.js';
import { HealthCheckInput, type HealthCheckResult, type HealthStatus, type NamedCheck } from './schemas.js';
import { abortReason } from './wait.js';

/** Names of the checks, in the order they are reported. */
export const HealthCheckName = {
  sqlReachable: 'sql_reachable',
  allTablesGreen: 'all_tables_green',
  nodeCountMatchesReplicas: 'node_count_matches_replicas',
  masterElected: 'master_elected',
  noRelocatingShards: 'no_relocating_shards',
  noInitializingShards: 'no_initializing_shards',
} as const;

interface Reading {
  checks: NamedCheck[];
  healthStatus: HealthStatus;
  nodeCount: number;
  masterNode: string | null;
  relocating: number;
  initializing: number;
  error: string | null;
}

function describeTables(rows: HealthRow[]): string {
  const bad = rows.filter((r) => r.health !== 'GREEN');
  const shown = bad.slice(0, 5).map((r) => `${r.schema}.${r.table}${r.partition ? `[${r.partition}]` : ''} ${r.health} (missing ${r.missingShards}, underreplicated ${r.underreplicatedShards})`);
  return `${shown.join(', ')}${bad.length > 5 ? ` and ${bad.length - 5} more` : ''}`;
}

async function readOnce(reader: ClusterSql, expectedNodes: number, signal?: AbortSignal): Promise<Reading> {
  try {
    const nodes = await reader.nodes(signal);
    const masterId = await reader.masterNodeId(signal);
    const rows = await reader.healthRows(signal);
    const states = await reader.shardStates(signal);
    const relocating = states.get('RELOCATING') ?? 0;
    const initializing = states.get('INITIALIZING') ?? 0;
    const status = worstHealth(rows);
    const masterNode = masterId === null ? null : (nodes.find((n) => n.id === masterId)?.name ?? masterId);
    const checks: NamedCheck[] = [
      { name: HealthCheckName.sqlReachable, ok: true, message: `answered by pod ${reader.currentPod ?? '?'}` },
      {
        name: HealthCheckName.allTablesGreen,
        ok: status === 'GREEN',
        message: status === 'GREEN' ? `${rows.length} tables/partitions GREEN` : describeTables(rows),
      },
      {
        name: HealthCheckName.nodeCountMatchesReplicas,
        ok: nodes.length === expectedNodes,
        message: `${nodes.length} nodes in the cluster, ${expectedNodes} expected`,
      },
      { name: HealthCheckName.masterElected, ok: masterNode !== null, message: masterNode ? `master is ${masterNode}` : 'no master node elected' },
      { name: HealthCheckName.noRelocatingShards, ok: relocating === 0, message: `${relocating} shards relocating` },
      { name: HealthCheckName.noInitializingShards, ok: initializing === 0, message: `${initializing} shards initializing` },
    ];
    return { checks, healthStatus: status, nodeCount: nodes.length, masterNode, relocating, initializing, error: null };
  } catch (err) {
    if (signal?.aborted) throw abortReason(signal);
    const message = messageOf(err);
    return {
      checks: [{ name: HealthCheckName.sqlReachable, ok: false, message }],
      healthStatus: 'UNKNOWN',
      nodeCount: 0,
      masterNode: null,
      relocating: 0,
      initializing: 0,
      error: message,
    };
  }
}

/**
 * Check the cluster's health. Healthy = `consecutive` good readings in a row. With timeoutSeconds
 * 0 the first bad reading decides (pre-flight); otherwise bad readings restart the count until
 * the timeout. Never throws for an unhealthy cluster; an abort rejects.
 */
export async function checkClusterHealth(deps: EngineDeps, rawInput: HealthCheckInput): Promise<HealthCheckResult> {
  const input = HealthCheckInput.parse(rawInput);
  const { cluster } = input;
  const reader = new ClusterSql(deps, cluster, input.avoidNodes);
  const intervalMs = input.intervalSeconds * 1000;
  const deadline = deps.clock.now() + input.timeoutSeconds * 1000;
  let good = 0;
  let lastFailed = '';
  for (;;) {
    if (deps.signal?.aborted) throw abortReason(deps.signal);
    const reading = await readOnce(reader, cluster.expectedNodes, deps.signal);
    const failed = reading.checks.filter((c) => !c.ok).map((c) => c.name);
    if (failed.length === 0) good += 1;
    else good = 0;
    const done = good >= input.consecutive;
    const giveUp = failed.length > 0 && (input.timeoutSeconds === 0 || deps.clock.now() >= deadline);
    if (failed.length > 0) {
      const summary = reading.checks.filter((c) => !c.ok).map((c) => `${c.name} (${c.message})`).join(', ');
      if (summary !== lastFailed) deps.log.info(`Waiting for cluster ${cluster.namespace}/${cluster.name} health: ${summary}`, { failedChecks: failed });
      lastFailed = summary;
    } else {
      deps.log.debug(`Cluster ${cluster.namespace}/${cluster.name} health reading ${good}/${input.consecutive} good`);
    }
    if (done || giveUp) {
      return {
        healthy: done,
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
        error: done ? null : `Cluster ${cluster.namespace}/${cluster.name} is not healthy: failed checks ${failed.join(', ')}`,
      };
    }
    await deps.clock.delay(intervalMs, deps.signal);
  }
}
