// One scenario's cluster: a namespace, a simulated CrateDB StatefulSet, the pod-UID recorder, and the
// assertions every scenario makes (each pod re-created exactly once, no unavailable primary, allocation reset).
import { expect } from 'vitest';
import { createCrateCluster, statefulSetName, type CrateClusterOptions } from './crate-cluster.js';
import {
  allocationSetting,
  createNamespace,
  decommissionsPerNode,
  eventually,
  flattenSettings,
  invariants,
  podNames,
  recordPodUids,
  sim,
  simState,
} from './harness.js';

/**
 * Fast simulator: fast relocation (the suite stays short). A drained node still waits for its active requests as
 * CrateDB does (a check every 5 s, exit 5 s after the first clean one: about 10 s per node, as observed
 * on CrateDB 6.4.3), so every test sees real exit timings.
 */
export const FAST_SIM = { relocationShardsPerSecond: 200, concurrentRecoveries: 4 };
/** Engine flags that keep a failing scenario short. */
export const FAST_FLAGS = ['--timeout', '120s', '--pod-ready-timeout', '120s', '--health-timeout', '120s'];

export interface Scenario {
  namespace: string;
  /** Simulator cluster name (= namespace: unique per scenario). */
  cluster: string;
  sts: string;
  pods: string[];
  uids: ReturnType<typeof recordPodUids>;
  /** dc_util in preStop (it sets graceful_stop settings of its own and never resets them, as the real one). */
  dcUtil: boolean;
  drop(): Promise<void>;
}

export async function scenario(
  prefix: string,
  opts: Partial<Omit<CrateClusterOptions, 'namespace' | 'name'>> & { dcUtil: boolean },
): Promise<Scenario> {
  const ns = await createNamespace(prefix);
  const cluster = ns.name;
  const replicas = opts.replicas ?? 3;
  await createCrateCluster({ namespace: ns.name, name: cluster, simConfig: FAST_SIM, ...opts });
  const sts = statefulSetName(cluster);
  const pods = podNames(sts, replicas);
  const uids = recordPodUids(ns.name);
  await eventually(
    'the pod watch to list every pod',
    async () => pods.every((p) => uids.uids(p).length === 1),
    30_000,
    100,
  );
  return {
    namespace: ns.name,
    cluster,
    sts,
    pods,
    uids,
    dcUtil: opts.dcUtil,
    drop: async () => {
      uids.stop();
      await ns.drop();
      // The simulator keeps every cluster until it is deleted. Its pods are being force-deleted (ns.drop), so the
      // nodes leave within seconds: delete once they have (409 while joined); force only as a last resort (a
      // forced node exits 1 and a restarted one would rejoin a fresh cluster). Best effort: a coordinator older
      // than DELETE /clusters answers 404/405.
      if (process.env.CDK_KEEP === '1') return;
      const deleted = await eventually(
        `simulated cluster ${cluster} deleted`,
        async () => {
          try {
            await sim('DELETE', `/clusters/${cluster}`);
            return true;
          } catch (err) {
            if (/: 409 /.test(String(err))) return false;
            return 'gone-or-unsupported';
          }
        },
        15_000,
        500,
      ).catch(() => false);
      if (!deleted) await sim('DELETE', `/clusters/${cluster}?force=true`).catch(() => undefined);
    },
  };
}

/** Every pod in `recreated` had exactly two UIDs (re-created once), every other pod one. */
export function expectRecreatedOnce(s: Scenario, recreated: string[] = s.pods): void {
  const seen = Object.fromEntries(s.pods.map((p) => [p, s.uids.uids(p).length]));
  const expected = Object.fromEntries(s.pods.map((p) => [p, recreated.includes(p) ? 2 : 1]));
  expect(seen, 'UIDs seen per pod').toEqual(expected);
}

/** The simulator saw no unavailable primary and the allocation setting is not restricted. */
export async function expectClusterSafe(s: Scenario): Promise<void> {
  const inv = await invariants(s.cluster);
  expect(inv, `invariants of ${s.cluster}`).toMatchObject({ ok: true, unintended: 0 });
  expect(await allocationSetting(s.cluster), 'cluster.routing.allocation.enable left set').toBeUndefined();
  if (!s.dcUtil) {
    // The manual strategy puts cluster.graceful_stop.* back: here they were at their defaults, so no level holds them.
    const state = await simState(s.cluster);
    const left = Object.keys({ ...flattenSettings(state.transient), ...flattenSettings(state.persistent) }).filter(
      (k) => k.startsWith('cluster.graceful_stop.'),
    );
    expect(left, 'cluster.graceful_stop.* left set').toEqual([]);
  }
}

/** Each named node was decommissioned exactly once (the simulator's history). */
export async function expectDecommissionedOnce(s: Scenario, nodes: string[]): Promise<void> {
  const counts = await decommissionsPerNode(s.cluster);
  expect(counts).toEqual(Object.fromEntries(nodes.map((n) => [n, 1])));
}

export const nodeOf = (pod: string) => `data-hot-${pod.slice(pod.lastIndexOf('-') + 1)}`;
