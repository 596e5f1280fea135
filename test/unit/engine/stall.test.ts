// Stall break (shared/stall.ts): a node whose active-request counter leaked (observed on CrateDB 6.4.3)
// drains but never exits until the graceful-stop timeout. Once the drain is done and sys.jobs / sys.operations show
// nothing on it for the idle period, the engine stops it: manual deletes the pod (grace 30), kubernetes_managed
// signals the process. Not while it is busy, not without stats.enabled, not with --no-stall-break.
import { describe, expect, it } from 'vitest';
import { restartPod } from '../../../shared/restart.js';
import { decommissionPod } from '../../../shared/decommission.js';
import { fastGate, world } from './helpers.js';

const ns = 'crate';
const opts = (o: Record<string, unknown> = {}) => ({
  decommissionTimeout: 720,
  minAvailability: 'PRIMARIES' as const,
  allocation: 'primaries' as const,
  stallBreak: true,
  stallIdleSeconds: 30,
  ...o,
});

describe('stall break', () => {
  it('manual: a leaked counter is broken after the idle period, not at the 720 s timeout; the pod is deleted with grace 30; log and Event say why', async () => {
    const w = await world({ replicas: 3 });
    w.crate.leakCounter('data-hot-1');
    const r = await restartPod(w.deps(), {
      podName: 'crate-1',
      namespace: ns,
      cluster: w.clusterModel(),
      ...fastGate,
      options: opts(),
    });
    expect(r.success).toBe(true);
    // engine seconds: the drain (a few s) + the idle period (30 s) + checks, far below 720
    expect(r.decommission!.duration).toBeLessThan(90);
    expect(r.decommission!.duration).toBeGreaterThanOrEqual(30);
    const line = w.log.lines.find((l) => l.message.startsWith('Stall break: node data-hot-1'))!;
    expect(line.level).toBe('warn');
    expect(line.message).toContain('no primary on it, no shard relocating');
    expect(line.message).toContain('no job coordinated by it and no job part on it for 3');
    expect(line.message).toContain('active-request counter leaks on retried reads');
    expect(line.message).toContain('deleting pod crate-1 (grace period 30s)');
    expect(w.kube.events.filter((e) => e.reason === 'StallBroken')).toHaveLength(1);
    const del = w.kube.writes.filter((x) => x.verb === 'delete' && x.kind === 'Pod');
    expect(del).toHaveLength(1);
    expect(JSON.stringify(del[0]!.detail)).toContain('"gracePeriodSeconds":30');
    expect(w.crate.violations).toEqual([]);
  });

  it('manual with --no-stall-break waits for the graceful-stop timeout (force: exits then)', async () => {
    const w = await world({ replicas: 3 });
    w.crate.leakCounter('data-hot-1');
    const r = await restartPod(w.deps(), {
      podName: 'crate-1',
      namespace: ns,
      cluster: w.clusterModel(),
      ...fastGate,
      options: opts({ decommissionTimeout: 120, stallBreak: false }),
    });
    expect(r.success).toBe(true);
    expect(r.decommission!.duration).toBeGreaterThanOrEqual(120);
    expect(w.log.lines.some((l) => l.message.startsWith('Stall break'))).toBe(false);
    expect(w.kube.events.filter((e) => e.reason === 'StallBroken')).toHaveLength(0);
  });

  it('without stats.enabled there is no evidence: it waits for the timeout and says why', async () => {
    const w = await world({ replicas: 3 });
    w.crate.transient.set('stats.enabled', false);
    w.crate.leakCounter('data-hot-1');
    const r = await restartPod(w.deps(), {
      podName: 'crate-1',
      namespace: ns,
      cluster: w.clusterModel(),
      ...fastGate,
      options: opts({ decommissionTimeout: 120 }),
    });
    expect(r.success).toBe(true);
    expect(r.decommission!.duration).toBeGreaterThanOrEqual(120);
    expect(w.log.text()).toContain('stall break not possible for node data-hot-1: stats.enabled is false');
    expect(w.kube.events.filter((e) => e.reason === 'StallBroken')).toHaveLength(0);
  });

  it('a node that still runs a job (or a job part) is not idle; the idle period starts when it ends', async () => {
    const w = await world({ replicas: 3 });
    // leaked by 2: the running part (+1) does not bring it to 0, as in CrateDB where both share one counter
    w.crate.leakCounter('data-hot-1', 2);
    // a long client query coordinated by another node with a part on the draining node
    const stop = w.crate.startJob('data-hot-0', 'SELECT count(*) FROM doc.big', ['data-hot-0', 'data-hot-1']);
    const run = restartPod(w.deps(), {
      podName: 'crate-1',
      namespace: ns,
      cluster: w.clusterModel(),
      ...fastGate,
      options: opts(),
    });
    const t0 = w.clock.now();
    await w.waitFor(() => w.clock.now() - t0 > 100_000, 20_000);
    expect(w.log.lines.some((l) => l.message.startsWith('Stall break'))).toBe(false);
    stop();
    const r = await run;
    expect(r.success).toBe(true);
    const broken = w.log.lines.find((l) => l.message.startsWith('Stall break'));
    expect(broken).toBeDefined();
    expect(r.decommission!.duration).toBeGreaterThan(100);
    expect(r.decommission!.duration).toBeLessThan(250);
  });

  it('kubernetes_managed: signals the CrateDB process (kill -TERM 1 in the crate container) instead of waiting for dc_util', async () => {
    const w = await world({ replicas: 3, preStop: 'dc_util' });
    w.crate.leakCounter('data-hot-1');
    const r = await decommissionPod(w.deps(), {
      podName: 'crate-1',
      namespace: ns,
      cluster: w.clusterModel(),
      dryRun: false,
      healthConsecutive: 3,
      healthIntervalSeconds: 2,
      options: opts(),
    });
    expect(r.success).toBe(true);
    expect(r.duration).toBeLessThan(120);
    const kills = w.kube.execs.filter((e) => e.command.join(' ') === 'sh -c kill -TERM 1');
    expect(kills).toHaveLength(1);
    expect(kills[0]).toMatchObject({ pod: 'crate-1', container: 'crate' });
    expect(w.log.text()).toContain('signalling its CrateDB process (kill -TERM 1 in container crate');
    expect(w.crate.violations).toEqual([]);
  });

  it('kubernetes_managed restart without relocation (dc_util drains with NONE): the evidence names min_availability NONE, not a primary check it did not make', async () => {
    const w = await world({ replicas: 3, preStop: 'dc_util' });
    w.crate.leakCounter('data-hot-1');
    const r = await restartPod(w.deps(), {
      podName: 'crate-1',
      namespace: ns,
      cluster: w.clusterModel(),
      ...fastGate,
      options: opts({ relocation: 'auto' }),
    });
    expect(r.success).toBe(true);
    expect(w.dcUtilRuns).toEqual([{ pod: 'crate-1', minAvailability: 'NONE' }]);
    const line = w.log.lines.find((l) => l.message.startsWith('Stall break: node data-hot-1'))!;
    expect(line.message).toContain('min_availability NONE: nothing must move');
    expect(line.message).not.toContain('no primary on it');
  });

  it('a normal exit comes first: no stall break without a leak', async () => {
    const w = await world({ replicas: 3 });
    const r = await restartPod(w.deps(), {
      podName: 'crate-1',
      namespace: ns,
      cluster: w.clusterModel(),
      ...fastGate,
      options: opts(),
    });
    expect(r.success).toBe(true);
    expect(w.log.lines.some((l) => l.message.startsWith('Stall break'))).toBe(false);
  });

  it('the dry run (plan) mentions it', async () => {
    const w = await world({ replicas: 3 });
    const r = await restartPod(w.deps(), {
      podName: 'crate-1',
      namespace: ns,
      cluster: w.clusterModel(),
      ...fastGate,
      dryRun: true,
      options: opts(),
    });
    expect(r.success).toBe(true);
    expect(w.log.text()).toMatch(
      /Stall break: if node data-hot-1 has drained but does not exit, and sys.jobs\/sys.operations show nothing on it for 30s/,
    );
  });
});
