import { describe, expect, it } from 'vitest';
import type { V1PolicyRule } from '@kubernetes/client-node';
import {
  APP_NAME,
  COMMON_LABELS,
  DEFAULT_IMAGE,
  LABEL_JOB_NAME,
  RUNNER_CONTAINER,
  buildCronJob,
  buildNetworkPolicy,
  buildRbac,
  buildRunnerJob,
  rbacObjects,
  runnerPolicyRules,
} from '../../../plugin/objects.js';
import { VERSION } from '../../../shared/task/version.js';
import { toYaml } from '../../../shared/adapters/k8s-yaml.js';
import pkg from '../../../package.json' with { type: 'json' };
import { ExitCode } from '../../../shared/task/exit.js';

/**
 * The engine's whole use of the API as group/resource -> verbs: runnerPolicyRules(), which rbac-verbs.test.ts proves
 * equal to what the code really calls (recorded, not copied by hand).
 */
const EXPECTED: Record<string, string[]> = grants(runnerPolicyRules());

function grants(rules: V1PolicyRule[]): Record<string, string[]> {
  const out: Record<string, Set<string>> = {};
  for (const r of rules) {
    for (const g of r.apiGroups ?? []) {
      for (const res of r.resources ?? []) {
        const key = `${g}/${res}`;
        out[key] ??= new Set();
        for (const v of r.verbs) out[key].add(v);
      }
    }
  }
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, [...v].sort()]));
}

function assertLeastPrivilege(rules: V1PolicyRule[]): void {
  expect(grants(rules)).toEqual(EXPECTED);
  for (const r of rules) {
    expect(r.verbs).not.toContain('*');
    expect(r.apiGroups).not.toContain('*');
    expect(r.resources).not.toContain('*');
    expect(r.nonResourceURLs ?? []).toEqual([]);
    for (const v of r.verbs) expect(['get', 'list', 'watch', 'create', 'update', 'patch', 'delete']).toContain(v);
    // Never escalate, impersonate, bind, or touch jobs/cronjobs/rbac from the runner.
    for (const res of r.resources ?? []) {
      expect(['jobs', 'cronjobs', 'roles', 'rolebindings', 'clusterroles', 'serviceaccounts', 'nodes']).not.toContain(
        res,
      );
    }
    expect(new Set(r.verbs).size).toBe(r.verbs.length);
  }
  const secretRule = rules.find((r) => r.resources?.includes('secrets'));
  expect(secretRule?.verbs).toEqual(['get']); // no list/watch: cannot enumerate the namespace's secrets
}

describe('buildRbac (namespaced)', () => {
  const rbac = buildRbac({ namespace: 'crate' });

  it('creates a ServiceAccount, a Role and a RoleBinding in the namespace', () => {
    expect(rbac.clusterWide).toBe(false);
    expect(rbac.serviceAccount).toMatchObject({ apiVersion: 'v1', kind: 'ServiceAccount' });
    expect(rbac.serviceAccount.metadata).toMatchObject({ name: 'crate-decommission', namespace: 'crate' });
    expect(rbac.role).toMatchObject({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role' });
    expect(rbac.role.metadata).toMatchObject({ name: 'crate-decommission', namespace: 'crate' });
    expect(rbac.roleBinding.metadata).toMatchObject({ name: 'crate-decommission', namespace: 'crate' });
    expect(rbac.roleBinding.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'Role',
      name: 'crate-decommission',
    });
    expect(rbac.roleBinding.subjects).toEqual([
      { kind: 'ServiceAccount', name: 'crate-decommission', namespace: 'crate' },
    ]);
    expect(rbacObjects(rbac).map((o) => o.kind)).toEqual(['ServiceAccount', 'Role', 'RoleBinding']);
  });

  it('grants exactly the verbs the engine uses, no wildcard, nothing extra', () => {
    assertLeastPrivilege(rbac.role.rules ?? []);
  });

  it('spells out each rule', () => {
    const rules = rbac.role.rules ?? [];
    const find = (group: string, resource: string) =>
      rules.find((r) => r.apiGroups?.includes(group) && r.resources?.includes(resource));
    expect(find('', 'pods')?.verbs).toEqual(['get', 'list', 'watch', 'delete']);
    expect(find('', 'pods/exec')?.verbs).toEqual(['create', 'get']);
    expect(find('apps', 'statefulsets')?.verbs).toEqual(['get', 'list', 'patch']);
    expect(find('cloud.crate.io', 'cratedbs')?.verbs).toEqual(['get']);
    expect(find('', 'secrets')?.verbs).toEqual(['get']);
    expect(find('coordination.k8s.io', 'leases')?.verbs).toEqual(['get', 'create', 'update']);
    expect(find('', 'events')?.verbs).toEqual(['create']);
    expect(find('events.k8s.io', 'events')?.verbs).toEqual(['create']);
    expect(rules).toHaveLength(8);
    for (const r of rules) expect(r.resourceNames).toBeUndefined();
  });

  it('honours serviceAccountName and labels', () => {
    const r = buildRbac({ namespace: 'db', serviceAccountName: 'runner', labels: { team: 'a' } });
    expect(r.serviceAccount.metadata?.name).toBe('runner');
    expect(r.role.metadata?.name).toBe('runner');
    expect(r.roleBinding.subjects?.[0]).toEqual({ kind: 'ServiceAccount', name: 'runner', namespace: 'db' });
    expect(r.role.metadata?.labels).toMatchObject({ team: 'a', ...COMMON_LABELS });
  });

  it('common labels cannot be overridden', () => {
    const r = buildRbac({ namespace: 'db', labels: { 'app.kubernetes.io/name': 'evil' } });
    expect(r.serviceAccount.metadata?.labels?.['app.kubernetes.io/name']).toBe(APP_NAME);
  });
});

describe('buildRbac (cluster-wide)', () => {
  const rbac = buildRbac({ namespace: 'ops', clusterWide: true });

  it('binds a ClusterRole to the ServiceAccount of the namespace', () => {
    expect(rbac.clusterWide).toBe(true);
    expect(rbac.serviceAccount.metadata).toMatchObject({ name: 'crate-decommission', namespace: 'ops' });
    expect(rbac.clusterRole.kind).toBe('ClusterRole');
    expect(rbac.clusterRole.metadata?.namespace).toBeUndefined();
    expect(rbac.clusterRoleBinding.kind).toBe('ClusterRoleBinding');
    expect(rbac.clusterRoleBinding.metadata?.namespace).toBeUndefined();
    expect(rbac.clusterRoleBinding.roleRef).toEqual({
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: rbac.clusterRole.metadata?.name,
    });
    expect(rbac.clusterRoleBinding.subjects).toEqual([
      { kind: 'ServiceAccount', name: 'crate-decommission', namespace: 'ops' },
    ]);
    expect(rbacObjects(rbac).map((o) => o.kind)).toEqual(['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding']);
  });

  it('has the same least-privilege rules', () => {
    assertLeastPrivilege(rbac.clusterRole.rules ?? []);
    expect(rbac.clusterRole.rules).toEqual(runnerPolicyRules());
    expect(rbac.clusterRole.aggregationRule).toBeUndefined();
  });

  it('distinct bindings per namespace', () => {
    const other = buildRbac({ namespace: 'ops2', clusterWide: true });
    expect(other.clusterRoleBinding.metadata?.name).not.toBe(rbac.clusterRoleBinding.metadata?.name);
  });
});

describe('buildRunnerJob', () => {
  const job = buildRunnerJob({
    namespace: 'crate',
    name: 'crate-decommission-rollout-abc12',
    image: 'example.org/runner:1',
    serviceAccountName: 'crate-decommission',
    args: ['rollout', 'cratedb/my-cluster', '--namespace', 'crate'],
    labels: { 'crate-decommission.crate.io/cluster': 'my-cluster' },
    activeDeadlineSeconds: 7200,
  });
  const spec = job.spec!;
  const pod = spec.template.spec!;
  const c = pod.containers[0]!;

  it('is a batch/v1 Job with name, namespace and labels', () => {
    expect(job.apiVersion).toBe('batch/v1');
    expect(job.kind).toBe('Job');
    expect(job.metadata?.name).toBe('crate-decommission-rollout-abc12');
    expect(job.metadata?.namespace).toBe('crate');
    for (const labels of [job.metadata?.labels, spec.template.metadata?.labels]) {
      expect(labels).toMatchObject({
        'app.kubernetes.io/name': 'crate-decommission',
        'app.kubernetes.io/managed-by': 'kubectl-crate-decommission',
        'app.kubernetes.io/component': 'runner',
        'crate-decommission.crate.io/cluster': 'my-cluster',
      });
    }
  });

  it('has restartPolicy Never, backoffLimit, activeDeadlineSeconds and ttl', () => {
    expect(pod.restartPolicy).toBe('Never');
    expect(spec.backoffLimit).toBe(3);
    expect(spec.activeDeadlineSeconds).toBe(7200);
    expect(spec.ttlSecondsAfterFinished).toBe(86400);
    expect(spec.parallelism).toBe(1);
    expect(spec.completions).toBe(1);
    expect(spec.podReplacementPolicy).toBe('Failed');
  });

  it('fails the Job at once on exit codes 2, 3, 5 of the runner container and ignores disruptions', () => {
    const rules = spec.podFailurePolicy?.rules ?? [];
    expect(rules).toHaveLength(2);
    expect(rules[0]).toEqual({
      action: 'FailJob',
      onExitCodes: { containerName: 'runner', operator: 'In', values: [2, 3, 5] },
    });
    expect(rules[0]?.onExitCodes?.values).toEqual([ExitCode.badInput, ExitCode.refused, ExitCode.locked]);
    // 1 (failed) and 4 (timeout) stay retriable: a re-run resumes.
    expect(rules[0]?.onExitCodes?.values).not.toContain(ExitCode.failed);
    expect(rules[0]?.onExitCodes?.values).not.toContain(ExitCode.timeout);
    expect(rules[1]).toEqual({ action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] });
  });

  it('runs one container named runner with image, args, termination message policy', () => {
    expect(pod.containers).toHaveLength(1);
    expect(c.name).toBe(RUNNER_CONTAINER);
    expect(c.name).toBe('runner');
    expect(c.image).toBe('example.org/runner:1');
    expect(c.args).toEqual(['rollout', 'cratedb/my-cluster', '--namespace', 'crate']);
    expect(c.command).toBeUndefined(); // the image's ENTRYPOINT runs
    expect(c.terminationMessagePolicy).toBe('FallbackToLogsOnError');
    expect(c.terminationMessagePath).toBe('/dev/termination-log');
    expect(pod.serviceAccountName).toBe('crate-decommission');
  });

  it('is non-root with a read-only root filesystem, no capabilities, seccomp RuntimeDefault', () => {
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 65532,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(c.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      privileged: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(c.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
    expect(pod.volumes?.[0]?.emptyDir).toBeDefined();
    expect(pod.hostNetwork).toBeUndefined();
  });

  it('has small resource requests and limits', () => {
    expect(c.resources?.requests).toEqual({ cpu: '50m', memory: '64Mi' });
    expect(c.resources?.limits).toEqual({ cpu: '500m', memory: '256Mi' });
  });

  it('sets OPERATION_ID from the Job name, and the pod name and namespace', () => {
    const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e]));
    expect(env.OPERATION_ID?.valueFrom?.fieldRef?.fieldPath).toBe(`metadata.labels['${LABEL_JOB_NAME}']`);
    expect(LABEL_JOB_NAME).toBe('batch.kubernetes.io/job-name');
    expect(env.POD_NAME?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
    expect(env.POD_NAMESPACE?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.namespace');
  });

  it('uses defaults and honours overrides', () => {
    const j = buildRunnerJob({
      namespace: 'n',
      name: 'j',
      args: [],
      activeDeadlineSeconds: 60,
      backoffLimit: 0,
      ttlSecondsAfterFinished: 600,
      env: [
        { name: 'LOG_LEVEL', value: 'debug' },
        { name: 'OPERATION_ID', value: 'spoofed' },
      ],
    });
    const ct = j.spec!.template.spec!.containers[0]!;
    expect(ct.image).toBe(DEFAULT_IMAGE);
    expect(DEFAULT_IMAGE).toBe(`ghcr.io/crate/crate-decommission:${pkg.version}`);
    expect(j.spec!.template.spec!.serviceAccountName).toBe('crate-decommission');
    expect(j.spec!.backoffLimit).toBe(0);
    expect(j.spec!.ttlSecondsAfterFinished).toBe(600);
    expect(ct.env?.filter((e) => e.name === 'OPERATION_ID')).toHaveLength(1);
    expect(ct.env?.find((e) => e.name === 'OPERATION_ID')?.value).toBeUndefined();
    expect(ct.env?.find((e) => e.name === 'LOG_LEVEL')?.value).toBe('debug');
    expect(j.metadata?.labels?.['app.kubernetes.io/version']).toBe(VERSION);
  });

  it('rejects nonsense numbers', () => {
    expect(() => buildRunnerJob({ namespace: 'n', name: 'j', args: [], activeDeadlineSeconds: 0 })).toThrow(
      /activeDeadlineSeconds/,
    );
    expect(() => buildRunnerJob({ namespace: 'n', name: 'j', args: [], activeDeadlineSeconds: 1.5 })).toThrow(
      RangeError,
    );
    expect(() =>
      buildRunnerJob({ namespace: 'n', name: 'j', args: [], activeDeadlineSeconds: 9, backoffLimit: -1 }),
    ).toThrow(/backoffLimit/);
  });

  it('returns fresh objects (no shared mutable state between calls)', () => {
    const a = buildRunnerJob({ namespace: 'n', name: 'a', args: ['x'], activeDeadlineSeconds: 9 });
    a.spec!.podFailurePolicy!.rules[0]!.onExitCodes!.values.push(1);
    a.metadata!.labels!['app.kubernetes.io/name'] = 'changed';
    const b = buildRunnerJob({ namespace: 'n', name: 'b', args: ['x'], activeDeadlineSeconds: 9 });
    expect(b.spec!.podFailurePolicy!.rules[0]!.onExitCodes!.values).toEqual([2, 3, 5]);
    expect(b.metadata!.labels!['app.kubernetes.io/name']).toBe('crate-decommission');
  });
});

describe('buildCronJob', () => {
  const cron = buildCronJob({
    namespace: 'crate',
    name: 'weekly',
    schedule: '0 3 * * 0',
    timeZone: 'Europe/Vienna',
    image: 'img:1',
    serviceAccountName: 'sa',
    args: ['rollout', 'cratedb/c1'],
    labels: { x: 'y' },
  });
  const spec = cron.spec!;

  it('is a batch/v1 CronJob with concurrencyPolicy Forbid', () => {
    expect(cron.apiVersion).toBe('batch/v1');
    expect(cron.kind).toBe('CronJob');
    expect(cron.metadata).toMatchObject({ name: 'weekly', namespace: 'crate' });
    expect(spec.concurrencyPolicy).toBe('Forbid');
    expect(spec.schedule).toBe('0 3 * * 0');
    expect(spec.timeZone).toBe('Europe/Vienna');
    expect(spec.suspend).toBe(false);
    expect(spec.startingDeadlineSeconds).toBeGreaterThan(0);
    expect(spec.successfulJobsHistoryLimit).toBe(3);
    expect(spec.failedJobsHistoryLimit).toBe(3);
  });

  it('uses the runner Job spec as its jobTemplate', () => {
    const js = spec.jobTemplate.spec!;
    expect(js.template.spec?.restartPolicy).toBe('Never');
    expect(js.podFailurePolicy?.rules[0]?.onExitCodes?.values).toEqual([2, 3, 5]);
    expect(js.activeDeadlineSeconds).toBeGreaterThan(0);
    expect(js.ttlSecondsAfterFinished).toBe(86400);
    const c = js.template.spec!.containers[0]!;
    expect(c.image).toBe('img:1');
    expect(c.args).toEqual(['rollout', 'cratedb/c1']);
    expect(js.template.spec?.serviceAccountName).toBe('sa');
    expect(js.template.metadata?.labels).toMatchObject({ x: 'y', 'app.kubernetes.io/name': 'crate-decommission' });
    expect(spec.jobTemplate.metadata?.labels).toMatchObject({ x: 'y', 'app.kubernetes.io/name': 'crate-decommission' });
    expect(spec.jobTemplate.metadata?.name).toBeUndefined();
  });

  it('omits timeZone when not given, honours suspend', () => {
    const c = buildCronJob({ namespace: 'n', name: 'c', schedule: '@daily', args: [], suspend: true });
    expect(c.spec?.timeZone).toBeUndefined();
    expect(c.spec?.suspend).toBe(true);
    expect(c.spec?.jobTemplate.spec?.template.spec?.containers[0]?.image).toBe(DEFAULT_IMAGE);
  });
});

describe('buildNetworkPolicy', () => {
  const np = buildNetworkPolicy({
    namespace: 'crate',
    crateSelector: { 'app.kubernetes.io/name': 'c1', 'app.kubernetes.io/component': 'cratedb' },
  });

  it('lets runner pods reach CrateDB on 4200, the API server and DNS', () => {
    const e = np.runnerEgress;
    expect(e.metadata?.namespace).toBe('crate');
    expect(e.spec?.podSelector?.matchLabels).toEqual({ 'app.kubernetes.io/name': 'crate-decommission' });
    expect(e.spec?.policyTypes).toEqual(['Egress']);
    const egress = e.spec?.egress ?? [];
    expect(egress[0]?.to?.[0]?.podSelector?.matchLabels).toEqual({
      'app.kubernetes.io/name': 'c1',
      'app.kubernetes.io/component': 'cratedb',
    });
    expect(egress[0]?.ports).toEqual([{ protocol: 'TCP', port: 4200 }]);
    expect(egress[1]?.ports).toEqual([
      { protocol: 'TCP', port: 443 },
      { protocol: 'TCP', port: 6443 },
    ]);
    expect(egress[2]?.ports).toEqual([
      { protocol: 'UDP', port: 53 },
      { protocol: 'TCP', port: 53 },
    ]);
    expect(egress).toHaveLength(3);
  });

  it('lets CrateDB pods accept runner pods on 4200 only', () => {
    const i = np.crateIngress;
    expect(i.spec?.podSelector?.matchLabels).toEqual({
      'app.kubernetes.io/name': 'c1',
      'app.kubernetes.io/component': 'cratedb',
    });
    expect(i.spec?.policyTypes).toEqual(['Ingress']);
    expect(i.spec?.ingress).toHaveLength(1);
    expect(i.spec?.ingress?.[0]?._from).toEqual([
      { podSelector: { matchLabels: { 'app.kubernetes.io/name': 'crate-decommission' } } },
    ]);
    expect(i.spec?.ingress?.[0]?.ports).toEqual([{ protocol: 'TCP', port: 4200 }]);
  });

  it('serialises _from as from', () => {
    const y = toYaml([np.crateIngress]);
    expect(y).toMatch(/\n {4}- from:\n/);
    expect(y).not.toContain('_from');
  });

  it('refuses an empty CrateDB selector', () => {
    expect(() => buildNetworkPolicy({ namespace: 'n', crateSelector: {} })).toThrow(/crateSelector/);
  });
});
