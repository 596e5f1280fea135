// manifests/ is generated from plugin/objects.ts by `npm run manifests`; this keeps it from drifting.
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { manifestFiles } from '../../../scripts/gen-manifests.js';

const root = join(import.meta.dirname, '..', '..', '..');
const dir = join(root, 'manifests');

function listYaml(d: string): string[] {
  return readdirSync(d, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listYaml(join(d, e.name)) : e.name.endsWith('.yaml') ? [relative(dir, join(d, e.name))] : [],
  );
}

function docs(path: string): Array<Record<string, any>> {
  return parseAllDocuments(readFileSync(join(dir, path), 'utf8'))
    .map((d) => d.toJS() as Record<string, any> | null)
    .filter((d): d is Record<string, any> => d !== null);
}

describe('manifests/', () => {
  const files = manifestFiles();

  it.each(Object.keys(files))('%s equals what the builders generate (run `npm run manifests`)', (path) => {
    expect(readFileSync(join(dir, path), 'utf8')).toBe(files[path]);
  });

  it('holds no YAML file the generator does not produce', () => {
    expect(listYaml(dir).sort()).toEqual(
      Object.keys(files)
        .filter((f) => f.endsWith('.yaml'))
        .sort(),
    );
  });

  it('has the namespaced RBAC, the ClusterRole variant, examples, NetworkPolicy and kustomization', () => {
    expect(docs('rbac/serviceaccount.yaml').map((d) => d.kind)).toEqual(['ServiceAccount']);
    expect(docs('rbac/role.yaml').map((d) => d.kind)).toEqual(['Role']);
    expect(docs('rbac/rolebinding.yaml').map((d) => d.kind)).toEqual(['RoleBinding']);
    expect(docs('rbac-cluster/clusterrole.yaml').map((d) => d.kind)).toEqual(['ClusterRole']);
    expect(docs('rbac-cluster/clusterrolebinding.yaml').map((d) => d.kind)).toEqual(['ClusterRoleBinding']);
    expect(docs('examples/job.yaml').map((d) => d.kind)).toEqual(['Job']);
    expect(docs('examples/cronjob.yaml').map((d) => d.kind)).toEqual(['CronJob']);
    expect(docs('networkpolicy.yaml').map((d) => d.kind)).toEqual(['NetworkPolicy', 'NetworkPolicy']);
    const k = docs('kustomization.yaml')[0]!;
    expect(k.kind).toBe('Kustomization');
    for (const r of k.resources as string[]) expect(listYaml(dir)).toContain(r);
    const kc = docs('rbac-cluster/kustomization.yaml')[0]!;
    for (const r of kc.resources as string[]) expect(listYaml(dir)).toContain(`rbac-cluster/${r}`);
  });

  it('wire format: the files parse as plain Kubernetes YAML with the key fields', () => {
    const job = docs('examples/job.yaml')[0]!;
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    expect(job.spec.podFailurePolicy.rules[0].onExitCodes.values).toEqual([2, 3, 5]);
    expect(job.spec.template.spec.containers[0].securityContext.runAsNonRoot).toBe(true);
    const cron = docs('examples/cronjob.yaml')[0]!;
    expect(cron.spec.concurrencyPolicy).toBe('Forbid');
    const ingress = docs('networkpolicy.yaml')[1]!;
    expect(ingress.spec.ingress[0].from).toBeDefined();
    const binding = docs('rbac/rolebinding.yaml')[0]!;
    const sa = docs('rbac/serviceaccount.yaml')[0]!;
    expect(binding.subjects[0]).toEqual({
      kind: 'ServiceAccount',
      name: sa.metadata.name,
      namespace: sa.metadata.namespace,
    });
  });
});
