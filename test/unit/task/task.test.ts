// Targets, durations, engine flags, and the runner argv round trip (plugin -> Job -> runner parse).
import { describe, expect, it } from 'vitest';
import { parseGlobalOptions } from '../../../plugin/options.js';
import { parseDurationSeconds } from '../../../shared/task/flag-values.js';
import {
  buildTask,
  parseTarget,
  runnerArgsFor,
  deadlineSecondsFor,
  DEFAULT_TASK_OPTIONS,
} from '../../../shared/task/index.js';
import { parseRunnerArgs } from '../../../shared/task/runner-args.js';

describe('parseTarget', () => {
  it.each([
    ['statefulset/crate', { kind: 'statefulset', name: 'crate' }],
    ['sts/crate', { kind: 'statefulset', name: 'crate' }],
    ['statefulsets.apps/crate', { kind: 'statefulset', name: 'crate' }],
    ['StatefulSet/crate', { kind: 'statefulset', name: 'crate' }],
    ['cratedb/prod', { kind: 'cratedb', name: 'prod' }],
    ['cratedbs.cloud.crate.io/prod', { kind: 'cratedb', name: 'prod' }],
    ['pod/crate-0', { kind: 'pod', name: 'crate-0' }],
    ['po/crate-0', { kind: 'pod', name: 'crate-0' }],
    ['crate', { kind: 'statefulset', name: 'crate' }],
  ])('%s', (text, expected) => {
    expect(parseTarget(text, 'statefulset')).toEqual(expected);
  });
  it('a bare name is a pod for pod commands', () => {
    expect(parseTarget('crate-1', 'pod', ['pod'])).toEqual({ kind: 'pod', name: 'crate-1' });
  });
});

describe('parseDurationSeconds', () => {
  it.each([
    ['720s', 720],
    ['720', 720],
    ['12m', 720],
    ['1h30m', 5400],
    ['1.5h', 5400],
    ['90000ms', 90],
    // Go syntax: sub-second values are rounded up to the engine's whole seconds (issue 13).
    ['500ms', 1],
    ['1500ms', 2],
    ['1m30s', 90],
    ['24h', 86_400],
    ['.5m', 30],
    ['2h0m0s', 7200],
  ])('%s = %i s', (text, s) => {
    expect(parseDurationSeconds(text, '--timeout')).toBe(s);
  });
  it.each(['', 's', '12parsecs', '1d', '10 m', 'm10', '5x', '--5s'])('%j is invalid', (text) => {
    expect(() => parseDurationSeconds(text, '--timeout')).toThrow(/invalid duration/);
  });
  // Valid Go durations outside the stated bounds (1s..24h for the engine's timeouts): refused, naming the rule.
  it.each(['-5s', '0s', '0', '24h1s', '99999999h'])('%j is out of range', (text) => {
    expect(() => parseDurationSeconds(text, '--timeout')).toThrow(/out of range: it must be from 1s to 24h/);
  });
  it('--request-timeout may be 0 or fractional', () => {
    expect(parseDurationSeconds('0', '--request-timeout', { allowZero: true, allowFraction: true })).toBe(0);
    expect(parseDurationSeconds('500ms', '--request-timeout', { allowZero: true, allowFraction: true })).toBe(0.5);
    expect(parseDurationSeconds('0s', '--request-timeout', { allowZero: true, allowFraction: true })).toBe(0);
    expect(() => parseDurationSeconds('25h', '--request-timeout', { allowZero: true, allowFraction: true })).toThrow(
      /0 or from 1ms to 24h/,
    );
  });
});

describe('global flags map to loadKubeConfig', () => {
  it('maps kubectl flags', () => {
    const g = parseGlobalOptions({
      context: 'prod',
      cluster: 'c',
      user: 'u',
      namespace: 'crate',
      as: 'alice',
      'as-group': ['a', 'b'],
      'request-timeout': '30s',
      'insecure-skip-tls-verify': true,
      output: 'json',
      color: 'never',
      local: true,
      'dry-run': true,
      yes: true,
    });
    expect(g.connect).toEqual({
      context: 'prod',
      cluster: 'c',
      user: 'u',
      namespace: 'crate',
      as: 'alice',
      asGroups: ['a', 'b'],
      requestTimeout: '30s',
      insecureSkipTlsVerify: true,
    });
    expect(g).toMatchObject({
      namespace: 'crate',
      output: 'json',
      color: 'never',
      local: true,
      dryRun: true,
      yes: true,
    });
  });
  it('defaults', () => {
    const g = parseGlobalOptions({});
    expect(g).toMatchObject({
      connect: {},
      namespace: undefined,
      output: 'text',
      color: 'auto',
      local: false,
      dryRun: false,
      yes: false,
      image: undefined,
    });
  });
  it('image from the environment', () => {
    expect(parseGlobalOptions({}, { CRATE_DECOMMISSION_IMAGE: 'registry.local/cd:dev' }).image).toBe(
      'registry.local/cd:dev',
    );
  });
});

describe('runner argv round trip', () => {
  it.each([
    [
      'rollout',
      'sts/crate',
      {
        timeout: '20m',
        'min-availability': 'full',
        allocation: 'new_primaries',
        'pod-ready-timeout': '5m',
        'health-timeout': '10m',
      },
    ],
    ['restart', 'crate-1', {}],
    ['decommission', 'pod/crate-2', { timeout: '1h' }],
    ['restart (skip pre-flight)', 'crate-1', { 'skip-preflight': true }],
    ['decommission (skip pre-flight)', 'crate-1', { 'skip-preflight': true }],
    ['health', 'cratedb/prod', { 'health-timeout': '60s' }],
    ['plan', 'crate', {}],
  ] as const)('%s %s', (label, target, raw) => {
    const operation = label.split(' ')[0] as 'rollout' | 'restart' | 'decommission' | 'health' | 'plan';
    const bare = operation === 'restart' || operation === 'decommission' ? 'pod' : 'statefulset';
    const task = {
      ...buildTask({ operation, namespace: 'crate', target: parseTarget(target, bare), dryRun: false, raw }),
      operationId: 'job-1',
    };
    const args = runnerArgsFor(task);
    const parsed = parseRunnerArgs(args);
    const back = buildTask({
      operation: parsed.operation,
      namespace: parsed.namespace ?? '',
      target: parsed.target,
      dryRun: parsed.dryRun,
      raw: parsed.raw,
    });
    expect(back).toEqual(task);
  });

  it('--skip-preflight reaches the runner only when given', () => {
    const skip = buildTask({
      operation: 'decommission',
      namespace: 'x',
      target: { kind: 'pod', name: 'c-0' },
      dryRun: false,
      raw: { 'skip-preflight': true },
    });
    expect(skip.options.skipPreflight).toBe(true);
    expect(runnerArgsFor(skip)).toContain('--skip-preflight');
    const plain = buildTask({
      operation: 'decommission',
      namespace: 'x',
      target: { kind: 'pod', name: 'c-0' },
      dryRun: false,
      raw: {},
    });
    expect(plain.options.skipPreflight).toBeUndefined();
    expect(runnerArgsFor(plain)).not.toContain('--skip-preflight');
  });

  it('defaults are the engine defaults', () => {
    const task = buildTask({
      operation: 'rollout',
      namespace: 'x',
      target: { kind: 'statefulset', name: 'c' },
      dryRun: false,
      raw: {},
    });
    expect(task.options).toEqual({ ...DEFAULT_TASK_OPTIONS, relocation: 'auto' });
    expect(task.options).toEqual({
      decommissionTimeout: 720,
      minAvailability: 'PRIMARIES',
      relocation: 'auto',
      allocation: 'primaries',
      podReadyTimeout: 600,
      healthTimeout: 900,
      heartbeatSeconds: 30,
      stallIdleSeconds: 30,
    });
  });

  it('--relocation: auto by default for rollout, restart and plan, primaries for decommission; round trip; refusals', () => {
    const t = (
      operation: 'rollout' | 'restart' | 'decommission' | 'plan' | 'health',
      raw: Record<string, unknown> = {},
    ) =>
      buildTask({
        operation,
        namespace: 'x',
        target:
          operation === 'rollout' || operation === 'plan' || operation === 'health'
            ? { kind: 'statefulset', name: 'c' }
            : { kind: 'pod', name: 'c-0' },
        dryRun: false,
        raw,
      });
    expect(
      ['rollout', 'restart', 'plan', 'decommission', 'health'].map((o) => t(o as 'rollout').options.relocation),
    ).toEqual(['auto', 'auto', 'auto', 'primaries', undefined]);
    expect(t('rollout', { relocation: 'primaries' }).options.relocation).toBe('primaries');
    expect(t('restart', { relocation: 'FULL' }).options.relocation).toBe('full');
    expect(t('decommission', { relocation: 'full' }).options.relocation).toBe('full');
    // --min-availability FULL means --relocation full; NONE (expert) is unchecked: no decision.
    expect(t('rollout', { 'min-availability': 'FULL' }).options).toMatchObject({
      relocation: 'full',
      minAvailability: 'FULL',
    });
    expect(t('rollout', { 'min-availability': 'none' }).options).toMatchObject({ minAvailability: 'NONE' });
    expect(t('rollout', { 'min-availability': 'none' }).options.relocation).toBeUndefined();
    expect(() => t('decommission', { relocation: 'auto' })).toThrow(/--relocation auto does not apply to decommission/);
    expect(() => t('decommission', { 'min-availability': 'NONE' })).toThrow(
      /--min-availability NONE does not apply to decommission/,
    );
    expect(() => t('rollout', { relocation: 'none' })).toThrow(/invalid --relocation "none"/);
    expect(() => t('rollout', { relocation: 'auto', 'min-availability': 'NONE' })).toThrow(
      /--min-availability NONE and --relocation auto disagree/,
    );
    expect(() => t('rollout', { relocation: ['auto', 'full'] })).toThrow(/more than once/);
    for (const task of [
      t('rollout'),
      t('decommission', { relocation: 'full' }),
      t('restart', { 'min-availability': 'NONE' }),
      t('rollout', { 'min-availability': 'FULL' }),
    ]) {
      const back = parseRunnerArgs(runnerArgsFor(task));
      const again = buildTask({
        operation: back.operation,
        namespace: 'x',
        target: back.target,
        dryRun: false,
        raw: back.raw,
      });
      expect(again.options).toEqual(task.options);
    }
    expect(runnerArgsFor(t('rollout'))).toEqual(expect.arrayContaining(['--relocation', 'auto']));
  });

  it('--heartbeat, --no-stall-break and --stall-idle reach the runner argv and parse back', () => {
    const task = buildTask({
      operation: 'rollout',
      namespace: 'x',
      target: { kind: 'statefulset', name: 'c' },
      dryRun: false,
      raw: { heartbeat: '10s', 'stall-break': false, 'stall-idle': '1m' },
    });
    expect(task.options).toMatchObject({ heartbeatSeconds: 10, noStallBreak: true, stallIdleSeconds: 60 });
    const args = runnerArgsFor(task);
    expect(args).toEqual(expect.arrayContaining(['--heartbeat', '10s', '--no-stall-break', '--stall-idle', '60s']));
    const back = parseRunnerArgs(args);
    const again = buildTask({
      operation: back.operation,
      namespace: 'x',
      target: back.target,
      dryRun: false,
      raw: back.raw,
    });
    expect(again.options).toMatchObject({ heartbeatSeconds: 10, noStallBreak: true, stallIdleSeconds: 60 });
    expect(() =>
      buildTask({
        operation: 'rollout',
        namespace: 'x',
        target: { kind: 'statefulset', name: 'c' },
        dryRun: false,
        raw: { heartbeat: 'soon' },
      }),
    ).toThrow(/--heartbeat/);
  });

  it('the Job deadline grows with the pods', () => {
    const task = buildTask({
      operation: 'rollout',
      namespace: 'x',
      target: { kind: 'statefulset', name: 'c' },
      dryRun: false,
      raw: {},
    });
    expect(deadlineSecondsFor(task, 5)).toBeGreaterThan(deadlineSecondsFor(task, 3));
  });
});
