// Issue 8 item 13: the runner Job's activeDeadlineSeconds budgets each pod by its own strategy's worst case. A
// kubernetes_managed pod is deleted with its delete grace period (dc_util's effective timeout + 60 s), during which
// dc_util drains it: a deadline computed from the graceful-stop timeout alone kills the runner mid-drain.
import type { V1Pod, V1StatefulSet } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { buildJobForTask, resolveTarget } from '../../../plugin/job-mode.js';
import { buildTask, deadlineSecondsFor, parseTarget } from '../../../shared/task/index.js';
import { detectStrategy } from '../../../shared/detect/index.js';
import { OPERATOR_PRESTOP, crateContainer, statefulSet } from '../detect/builders.js';
import { FakePluginKube } from './helpers.js';

const NS = 'crate';

function sts(name: string, grace: number, preStop: string[] | undefined = OPERATOR_PRESTOP): V1StatefulSet {
  const s = statefulSet({ name, grace, ...(preStop ? { preStop } : {}) });
  s.metadata = { ...s.metadata, namespace: NS };
  return s;
}

function podOf(set: V1StatefulSet, i: number, spec = set.spec!.template.spec!): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `${set.metadata!.name}-${i}`,
      namespace: NS,
      labels: { ...set.spec!.template.metadata!.labels },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: set.metadata!.name!, uid: 'u' }],
    },
    spec: structuredClone(spec),
  };
}

const rollout = (name: string) =>
  buildTask({
    operation: 'rollout',
    namespace: NS,
    target: parseTarget(`sts/${name}`, 'statefulset'),
    dryRun: false,
    raw: {},
  });

describe('Job deadline per pod strategy', () => {
  it('a dc_util StatefulSet with a long grace period: every pod gets its whole delete grace period', async () => {
    const set = sts('crate-data-hot-long', 7350);
    const detection = detectStrategy(set);
    expect(detection.strategy).toBe('kubernetes_managed');
    expect(detection.deleteGracePeriodSeconds).toBeGreaterThanOrEqual(7290);
    const kube = new FakePluginKube();
    kube.put(set);
    for (let i = 0; i < 3; i++) kube.put(podOf(set, i));
    const task = rollout('crate-data-hot-long');
    const target = await resolveTarget(kube, task);
    const job = buildJobForTask(task, target, { suffix: 'abc12' });
    const o = task.options;
    const perPod = detection.deleteGracePeriodSeconds + o.podReadyTimeout + o.healthTimeout;
    expect(job.spec!.activeDeadlineSeconds).toBeGreaterThanOrEqual(3 * perPod);
    // Each pod drains within its own budget, never shorter than the manual worst case.
    expect(deadlineSecondsFor(task, target)).toBe(job.spec!.activeDeadlineSeconds);
  });

  it('a pod whose own spec (OnDelete) has a longer grace period than the template is budgeted by its own', async () => {
    const set = sts('crate-data-hot-ondel', 1200);
    const kube = new FakePluginKube();
    kube.put(set);
    kube.put(podOf(set, 0));
    kube.put(podOf(set, 1));
    const old = structuredClone(set.spec!.template.spec!);
    old.terminationGracePeriodSeconds = 7350;
    kube.put(podOf(set, 2, old));
    const task = rollout('crate-data-hot-ondel');
    const target = await resolveTarget(kube, task);
    expect(target.deleteGraceSeconds?.[0]).toBeGreaterThanOrEqual(7290);
    expect(target.deleteGraceSeconds).toHaveLength(3);
    const o = task.options;
    expect(deadlineSecondsFor(task, target)).toBeGreaterThanOrEqual(
      target.deleteGraceSeconds![0]! + 2 * 1200 + 3 * (o.podReadyTimeout + o.healthTimeout),
    );
  });

  it('a manual StatefulSet keeps the graceful-stop budget', async () => {
    const set = sts('crate-manual', 30, undefined);
    set.spec!.template.spec!.containers = [crateContainer()];
    expect(detectStrategy(set).strategy).toBe('manual');
    const kube = new FakePluginKube();
    kube.put(set);
    const task = rollout('crate-manual');
    const target = await resolveTarget(kube, task);
    expect(target.deleteGraceSeconds).toBeUndefined();
    const o = task.options;
    expect(deadlineSecondsFor(task, target)).toBe(
      3 * (o.decommissionTimeout + 30 + o.podReadyTimeout + o.healthTimeout + 60) + o.healthTimeout + 300,
    );
  });

  it('a single-pod restart of a dc_util pod is budgeted by that pod', async () => {
    const set = sts('crate-data-hot-one', 7350);
    const kube = new FakePluginKube();
    kube.put(set);
    kube.put(podOf(set, 1));
    const task = buildTask({
      operation: 'restart',
      namespace: NS,
      target: parseTarget('crate-data-hot-one-1', 'pod'),
      dryRun: false,
      raw: {},
    });
    const target = await resolveTarget(kube, task);
    expect(target.pods).toBe(1);
    expect(deadlineSecondsFor(task, target)).toBeGreaterThanOrEqual(
      detectStrategy(set).deleteGracePeriodSeconds + task.options.podReadyTimeout,
    );
  });
});
