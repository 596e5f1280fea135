// Adversarial pass (issue 8): actors the engine does not control acting in the middle of a rollout.
// Each test states the scenario and the outcome the engine must reach; see docs/engine.md "Adversarial review".
import { describe, expect, it } from 'vitest';
import { rollingRestart } from '../../../shared/rolling.js';
import { fastGate, world } from '../engine/helpers.js';
import { type World } from '../../support/fakes/world.js';

const ns = 'crate';
const ALLOC = 'cluster.routing.allocation.enable';
const uidsOf = (w: World, pod: string) => w.kube.podHistory.filter((p) => p.name === pod).map((p) => p.uid);
const engineDeletes = (w: World, human: Set<string>) =>
  w.kube.writes.filter(
    (x) =>
      x.kind === 'Pod' &&
      x.verb === 'delete' &&
      !human.has(`${x.name}/${(x.detail as { uid?: string } | undefined)?.uid ?? ''}`),
  );

describe('a human `kubectl delete pod` of the pod whose node drains (manual strategy)', () => {
  it('the rollout follows it: no second DECOMMISSION, the new pod is not deleted, each pod re-created once, exit 0', async () => {
    const w = await world({ replicas: 3 });
    const human = new Set<string>();
    const query = w.crate.query.bind(w.crate);
    w.crate.query = async (node, login, via, stmt, args) => {
      const r = await query(node, login, via, stmt, args);
      const target = /^ALTER CLUSTER DECOMMISSION/.test(stmt) ? String(args?.[0] ?? /'([^']+)'/.exec(stmt)?.[1]) : null;
      if (target && human.size === 0) {
        // The statement returned (the shards moved); the node waits for its requests: a human deletes its pod now.
        const pod = `crate-${target.slice(target.lastIndexOf('-') + 1)}`;
        const uid = (await w.kube.getPod(ns, pod))!.metadata!.uid!;
        human.add(`${pod}/${uid}`);
        await w.kube.deletePod(ns, pod, { gracePeriodSeconds: 30, uid });
      }
      return r;
    };
    const r = await rollingRestart(w.deps(), { cluster: w.clusterModel(), ...fastGate });
    expect(r.error).toBeNull();
    expect(r.success).toBe(true);
    for (const node of ['data-hot-0', 'data-hot-1', 'data-hot-2'])
      expect(
        w.crate.decommissions.filter((d) => d.node === node),
        node,
      ).toHaveLength(1);
    for (const pod of ['crate-0', 'crate-1', 'crate-2']) expect(uidsOf(w, pod), pod).toHaveLength(2);
    expect(
      engineDeletes(w, human)
        .map((x) => x.name)
        .sort(),
    ).toEqual(['crate-0', 'crate-1']);
    expect(w.crate.violations).toEqual([]);
    expect(w.crate.setting(ALLOC)).toBeUndefined();
  });
});

describe('a human deletes ANOTHER pod while a node drains (manual strategy)', () => {
  it('the engine starts no further decommission until that node rejoined and the gate passed; exit 0, no primary lost', async () => {
    const w = await world({ replicas: 3 });
    let humanAt: number | null = null;
    const query = w.crate.query.bind(w.crate);
    w.crate.query = async (node, login, via, stmt, args) => {
      const r = await query(node, login, via, stmt, args);
      if (/^ALTER CLUSTER DECOMMISSION/.test(stmt) && humanAt === null) {
        // The first node drains (crate-2, ordinal order); a human deletes crate-0, which the engine did not pick.
        humanAt = w.clock.now();
        const uid = (await w.kube.getPod(ns, 'crate-0'))!.metadata!.uid!;
        await w.kube.deletePod(ns, 'crate-0', { gracePeriodSeconds: 30, uid });
      }
      return r;
    };
    const r = await rollingRestart(w.deps(), { cluster: w.clusterModel(), ...fastGate });
    expect(r.error).toBeNull();
    expect(r.success).toBe(true);
    const rejoined = w.crate.joins.find((j) => j.node === 'data-hot-0' && j.at > humanAt!)!.at;
    const second = w.crate.decommissions[1]!;
    expect(second.at, `the second DECOMMISSION (${second.node}) only after data-hot-0 rejoined`).toBeGreaterThan(
      rejoined,
    );
    // Out together only while the human's pod was away: no overlap began with an engine action.
    for (const c of w.crate.concurrentOut) expect(c.nodes, `out at ${c.at}`).toContain('data-hot-0');
    expect(w.crate.violations).toEqual([]);
    expect(w.crate.setting(ALLOC)).toBeUndefined();
  });
});

describe('a node leaves on its own in the middle of a drain (its process crashes, the kubelet restarts it in place)', () => {
  it.each([
    ['another node', 'crate-0'],
    ['the draining node itself', null],
  ] as const)(
    '%s: the rollout finishes, no further decommission before that node rejoined, no primary lost',
    async (_what, victim) => {
      const w = await world({ replicas: 3 });
      let crashedAt: number | null = null;
      let crashed: string | null = null;
      const query = w.crate.query.bind(w.crate);
      w.crate.query = async (node, login, via, stmt, args) => {
        const r = await query(node, login, via, stmt, args);
        const target = /^ALTER CLUSTER DECOMMISSION/.test(stmt)
          ? String(args?.[0] ?? /'([^']+)'/.exec(stmt)?.[1])
          : null;
        if (target && crashedAt === null) {
          const pod = victim ?? `crate-${target.slice(target.lastIndexOf('-') + 1)}`;
          crashed = w.nodeName(pod);
          crashedAt = w.clock.now();
          w.crate.stopNode(crashed);
          w.kube.containerExited(ns, pod, 'crate', 137);
        }
        return r;
      };
      const r = await rollingRestart(w.deps(), { cluster: w.clusterModel(), ...fastGate });
      expect(r.error).toBeNull();
      expect(r.success).toBe(true);
      const rejoined = w.crate.joins.find((j) => j.node === crashed && j.at > crashedAt!)!.at;
      expect(
        w.crate.decommissions[1]!.at,
        'the second DECOMMISSION only after the crashed node rejoined',
      ).toBeGreaterThan(rejoined);
      for (const pod of ['crate-0', 'crate-1', 'crate-2']) expect(uidsOf(w, pod), pod).toHaveLength(2);
      expect(w.crate.violations).toEqual([]);
      expect(w.crate.setting(ALLOC)).toBeUndefined();
    },
  );
});
