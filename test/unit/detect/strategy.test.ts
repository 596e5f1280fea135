import { describe, expect, it } from 'vitest';
import { StrategyDetection } from '../../../shared/schemas.js';
import { detectStrategy } from '../../../shared/detect/index.js';
import { effectiveDcUtilTimeoutSeconds, kubernetesManagedDeleteGraceSeconds } from '../../../shared/detect/timeout.js';
import { crateContainer, OPERATOR_PRESTOP, SQL_EXPORTER, statefulSet } from './builders.js';

const DIRECT_720 = ['./dc_util-linux-amd64', '-min-availability', 'PRIMARIES', '-timeout', '720s'];

describe("dc_util's effective timeout and the deletion grace period", () => {
  it.each<[string, number | undefined, number, number, string]>([
    ['grace unset: the flag', undefined, 720, 780, 'unset, so dc_util uses its -timeout flag: 720s'],
    ['grace 30: the flag', 30, 720, 780, '30, so dc_util uses its -timeout flag: 720s'],
    [
      'grace 1200 (crate-operator): 1080, deletion never below 1200',
      1200,
      1080,
      1200,
      'terminationGracePeriodSeconds 1200 != 30, so dc_util uses 1200-120 = 1080s (its own rule), not the 720s flag',
    ],
    ['grace 300: raised to 360', 300, 360, 420, 'raised to its minimum 360s'],
    ['grace 0: raised to 360', 0, 360, 420, 'raised to its minimum 360s'],
    ['grace 480: 360, deletion never below 480', 480, 360, 480, '480-120 = 360s'],
    ['grace 7230 (dc_util README)', 7230, 7110, 7230, '7230-120 = 7110s'],
    ['grace 100000', 100000, 99880, 100000, '100000-120 = 99880s'],
  ])('%s', (_title, grace, effective, deleteGrace, reason) => {
    const detection = detectStrategy(statefulSet({ preStop: DIRECT_720, ...(grace === undefined ? {} : { grace }) }));
    expect(detection.strategy).toBe('kubernetes_managed');
    expect(detection.dcUtilFlagTimeoutSeconds).toBe(720);
    expect(detection.dcUtilTimeoutSeconds).toBe(effective);
    expect(detection.deleteGracePeriodSeconds).toBe(deleteGrace);
    expect(detection.terminationGracePeriodSeconds).toBe(grace ?? null);
    expect(detection.reasons.join('\n')).toContain(reason);
  });

  it('the default flag 7200s applies when grace is unset and -timeout is absent', () => {
    const detection = detectStrategy(statefulSet({ preStop: ['/dc_util'] }));
    expect(detection).toMatchObject({
      dcUtilFlagTimeoutSeconds: 7200,
      dcUtilTimeoutSeconds: 7200,
      deleteGracePeriodSeconds: 7260,
    });
  });

  it('warns when the pod grace period is shorter than the decommission (drains and evictions SIGKILL it)', () => {
    const detection = detectStrategy(statefulSet({ preStop: DIRECT_720, grace: 30 }));
    expect(detection.reasons.join('\n')).toContain('shorter than dc_util');
  });

  it.each([
    ['1h30m', undefined, 'manual'],
    ['1.5h', 30, 'manual'],
    ['1h30m', 1200, 'kubernetes_managed'], // dc_util then sends "1080s", not the flag
  ])('-timeout %s with grace %s: CrateDB only takes one integer and one unit -> %s', (timeout, grace, strategy) => {
    const detection = detectStrategy(
      statefulSet({ preStop: ['./dc_util', '-timeout', timeout], ...(grace === undefined ? {} : { grace }) }),
    );
    expect(detection.strategy).toBe(strategy);
    expect(detection.dcUtilFlagTimeoutSeconds).toBe(5400);
    if (strategy === 'manual') expect(detection.reasons.join('\n')).toContain('which CrateDB rejects');
  });

  it.each([
    [720, null, 720],
    [720, 30, 720],
    [720, 1200, 1080],
    [720, 300, 360],
    [720, 100000, 99880],
  ])('effectiveDcUtilTimeoutSeconds(%d, %s) = %d', (flag, grace, expected) => {
    expect(effectiveDcUtilTimeoutSeconds(flag, grace)).toBe(expected);
  });

  it.each([
    [720, null, 780],
    [1080, 1200, 1200],
    [360, 300, 420],
    [99880, 100000, 100000],
  ])('kubernetesManagedDeleteGraceSeconds(%d, %s) = %d', (effective, grace, expected) => {
    expect(kubernetesManagedDeleteGraceSeconds(effective, grace)).toBe(expected);
  });
});

describe('skips dc_util applies itself', () => {
  it.each([
    ['true', true],
    ['TRUE', true],
    ['True', true],
    ['tRuE', true],
    ['false', false],
    ['False', false],
    ['', false],
    ['yes', false],
  ])('label dc-util-disabled=%j -> skips %s', (value, skips) => {
    const detection = detectStrategy(
      statefulSet({ preStop: OPERATOR_PRESTOP, grace: 1200, labels: { 'dc-util-disabled': value } }),
    );
    expect(detection.hasDcUtil).toBe(true);
    expect(detection.dcUtilWillNotDecommission).toBe(skips);
    expect(detection.strategy).toBe(skips ? 'manual' : 'kubernetes_managed');
    if (skips) {
      expect(detection.deleteGracePeriodSeconds).toBe(30);
      expect(detection.reasons).toContain(`label dc-util-disabled=${value}: dc_util will skip the decommission`);
    }
  });

  it.each<[string, number | undefined, boolean, string | null]>([
    ['0', 0, true, 'spec.replicas 0 <= 1'],
    ['1', 1, true, 'spec.replicas 1 <= 1'],
    ['unset (defaults to 1)', undefined, true, 'spec.replicas unset (1) <= 1'],
    ['2', 2, false, null],
    ['3', 3, false, null],
  ])('replicas %s', (_title, replicas, skips, reason) => {
    const detection = detectStrategy(statefulSet({ preStop: OPERATOR_PRESTOP, replicas }));
    expect(detection.dcUtilWillNotDecommission).toBe(skips);
    expect(detection.hasDcUtil).toBe(true);
    expect(detection.strategy).toBe(skips ? 'manual' : 'kubernetes_managed');
    if (reason !== null) expect(detection.reasons.join('\n')).toContain(reason);
  });

  it.each<[string, 'NONE' | 'PRIMARIES' | 'FULL', string]>([
    ['NONE', 'NONE', 'overrides'],
    ['FULL', 'FULL', 'overrides'],
    ['PRIMARIES', 'PRIMARIES', 'overrides'],
    ['full', 'PRIMARIES', 'compares it exactly'], // dc_util ignores it, the flag (PRIMARIES) stays
    ['half', 'PRIMARIES', 'ignored'],
  ])('label dc-util-min-availability=%s -> %s', (value, expected, reason) => {
    const detection = detectStrategy(
      statefulSet({ preStop: OPERATOR_PRESTOP, labels: { 'dc-util-min-availability': value } }),
    );
    expect(detection.minAvailability).toBe(expected);
    expect(detection.reasons.join('\n')).toContain(reason);
  });
});

describe('does dc_util find its node?', () => {
  it.each<[string, string, string[], 'manual' | 'kubernetes_managed', string | null]>([
    [
      'crate-operator master StatefulSet with the default prefix',
      'crate-master-6a0c7a1e',
      OPERATOR_PRESTOP,
      'manual',
      'cannot derive a node name',
    ],
    ['a plain StatefulSet name', 'cratedb', DIRECT_720, 'manual', 'cannot derive a node name'],
    [
      'a plain StatefulSet name with --crate-node-prefix',
      'cratedb',
      ['./dc_util', '--crate-node-prefix', 'cratedb'],
      'kubernetes_managed',
      null,
    ],
    ['crate-operator data-hot', 'crate-data-hot-6a0c7a1e', OPERATOR_PRESTOP, 'kubernetes_managed', null],
    [
      '-hostname set to something else',
      'crate-data-hot-1',
      ['./dc_util', '-hostname', 'web-0'],
      'manual',
      'from pod web-0',
    ],
  ])('%s', (_title, name, preStop, strategy, reason) => {
    const detection = detectStrategy(statefulSet({ name, preStop }));
    expect(detection.strategy).toBe(strategy);
    if (reason !== null) expect(detection.reasons.join('\n')).toContain(reason);
  });

  it('a -Cnode.name that differs from what dc_util derives means dc_util drains the wrong node', () => {
    const detection = detectStrategy(
      statefulSet({
        name: 'crate-data-hot-6a0c7a1e',
        preStop: OPERATOR_PRESTOP,
        crate: { command: ['/docker-entrypoint.sh', 'crate', '-Cnode.name=$(hostname)'] },
      }),
    );
    expect(detection.strategy).toBe('manual');
    expect(detection.reasons.join('\n')).toContain('would decommission node data-hot-0');
  });

  it("crate-operator's own -Cnode.name matches dc_util's", () => {
    const detection = detectStrategy(
      statefulSet({
        preStop: OPERATOR_PRESTOP,
        crate: {
          command: ['/docker-entrypoint.sh', 'crate', "-Cnode.name=data-hot-$(hostname | awk -F- '{print $NF}')"],
        },
      }),
    );
    expect(detection.strategy).toBe('kubernetes_managed');
  });
});

describe('container choice and missing hooks', () => {
  it('uses the crate container, not the sidecar that comes first', () => {
    const detection = detectStrategy(
      statefulSet({
        containers: [
          { ...SQL_EXPORTER, lifecycle: { preStop: { exec: { command: ['sleep', '5'] } } } },
          crateContainer(OPERATOR_PRESTOP),
        ],
      }),
    );
    expect(detection).toMatchObject({ strategy: 'kubernetes_managed', containerName: 'crate' });
  });

  it('finds the CrateDB container by image and says so', () => {
    const detection = detectStrategy(
      statefulSet({
        containers: [SQL_EXPORTER, { ...crateContainer(DIRECT_720), name: 'database', image: 'crate/crate:5.10.3' }],
      }),
    );
    expect(detection.containerName).toBe('database');
    expect(detection.reasons[0]).toBe(
      'CrateDB container: container database runs the CrateDB image crate/crate:5.10.3',
    );
  });

  it('finds the CrateDB container by port 4200', () => {
    const detection = detectStrategy(
      statefulSet({ containers: [SQL_EXPORTER, { name: 'db', image: 'acme/db:1', ports: [{ containerPort: 4200 }] }] }),
    );
    expect(detection).toMatchObject({ strategy: 'manual', containerName: 'db', hasPrestopHook: false });
    expect(detection.reasons[0]).toContain('exposes port 4200');
  });

  it('no CrateDB container -> unknown', () => {
    const detection = detectStrategy(statefulSet({ containers: [SQL_EXPORTER] }));
    expect(detection).toMatchObject({
      strategy: 'unknown',
      containerName: null,
      hasPrestopHook: false,
      hasDcUtil: false,
    });
    expect(detection.reasons[0]).toContain('no CrateDB container in the pod template (containers: sql-exporter)');
  });

  it('an empty StatefulSet -> unknown', () => {
    expect(detectStrategy({}).strategy).toBe('unknown');
  });

  it('no preStop hook -> manual, with the numbers of the manual strategy', () => {
    const detection = detectStrategy(statefulSet({ grace: 1200 }));
    expect(detection).toEqual({
      strategy: 'manual',
      hasPrestopHook: false,
      hasDcUtil: false,
      dcUtilTimeoutSeconds: 0,
      dcUtilFlagTimeoutSeconds: 0,
      terminationGracePeriodSeconds: 1200,
      deleteGracePeriodSeconds: 30,
      minAvailability: 'PRIMARIES',
      dcUtilWillNotDecommission: false,
      containerName: 'crate',
      dcUtilProto: null,
      servedScheme: null,
      reasons: ['container crate has no preStop hook: we decommission the node ourselves'],
      reasonRules: ['noPreStopHook'],
    });
  });

  it.each([
    ['no hook', statefulSet()],
    ['wrapper', statefulSet({ preStop: OPERATOR_PRESTOP, grace: 1200 })],
    ['disabled', statefulSet({ preStop: OPERATOR_PRESTOP, labels: { 'dc-util-disabled': 'true' } })],
    ['unknown', statefulSet({ containers: [] })],
  ])('every result matches the StrategyDetection schema (%s)', (_title, sts) => {
    expect(() => StrategyDetection.parse(detectStrategy(sts))).not.toThrow();
  });
});
