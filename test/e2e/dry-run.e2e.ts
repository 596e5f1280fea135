// --dry-run=server on the real API server (issue 8 item 14): every write is sent with dryRun=All, so validation
// and admission run, and nothing persists.
import { afterAll, describe, expect, it } from 'vitest';
import { RUNNER_IMAGE, createNamespace, kubectl, kubectlJson, kubectlOk, plugin, pluginOk } from './harness.js';

const drops: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const d of drops) await d();
});

/** A StatefulSet with no pods: enough for the plugin to resolve the target, nothing for the kubelet to run. */
const sts = (ns: string) => `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: crate, namespace: ${ns}}
spec:
  replicas: 0
  serviceName: crate
  selector: {matchLabels: {app: crate}}
  template:
    metadata: {labels: {app: crate}}
    spec:
      containers:
        - {name: crate, image: crate:6.4.3, ports: [{containerPort: 4200}]}
`;

describe('--dry-run=server', () => {
  it('rbac install --dry-run=server creates nothing; the API server really saw the writes', async () => {
    const ns = await createNamespace('e2e-dryrun-rbac');
    drops.push(ns.drop);
    const r = await plugin(['rbac', 'install', '-n', ns.name, '--dry-run=server']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('serviceaccount/crate-decommission created (server dry run)');
    expect(r.stdout).toContain('rolebinding.rbac.authorization.k8s.io/crate-decommission created (server dry run)');
    for (const kind of ['serviceaccount', 'role', 'rolebinding']) {
      const got = await kubectl(['get', kind, 'crate-decommission', '-n', ns.name]);
      expect(got.code, `${kind} must not exist`).not.toBe(0);
    }
    // The writes went to the API server: into a namespace that does not exist they are refused there.
    const missing = await plugin(['rbac', 'install', '-n', `${ns.name}-nope`, '--dry-run=server']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/not found/i);
  });

  it('rollout --dry-run=server creates no Job (and no runner pod)', async () => {
    const ns = await createNamespace('e2e-dryrun-rollout');
    drops.push(ns.drop);
    await kubectlOk(['apply', '-f', '-'], sts(ns.name));
    await pluginOk(['rbac', 'install', '-n', ns.name]);
    const r = await plugin([
      'rollout',
      'sts/crate',
      '-n',
      ns.name,
      '--image',
      RUNNER_IMAGE,
      '--dry-run=server',
      '-o',
      'json',
    ]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const answered = JSON.parse(r.stdout);
    expect(answered.kind).toBe('Job');
    // The API server answered with its defaults filled in (it really admitted the object) ...
    expect(answered.metadata.uid ?? answered.spec.template.spec.dnsPolicy).toBeDefined();
    // ... and stored nothing.
    const jobs = await kubectlJson(['get', 'jobs', '-n', ns.name]);
    expect(jobs.items).toEqual([]);
    const pods = await kubectlJson(['get', 'pods', '-n', ns.name]);
    expect(pods.items).toEqual([]);
  });

  it.each(['1', 'yes', 'true'])('rbac install --dry-run=%s is refused with exit 2 and creates nothing', async (v) => {
    const ns = await createNamespace('e2e-dryrun-bad');
    drops.push(ns.drop);
    const r = await plugin(['rbac', 'install', '-n', ns.name, `--dry-run=${v}`]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect((await kubectl(['get', 'serviceaccount', 'crate-decommission', '-n', ns.name])).code).not.toBe(0);
  });
});
