// RBAC is real: the runner runs with its ServiceAccount's token, so a Role missing one rule the engine needs
// makes the run fail with a clear error (never exit 0), and the cluster is left as it was.
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { buildRbac, rbacObjects } from '../../plugin/objects.js';
import { RUNNER_IMAGE, allocationSetting, invariants, kubectlJson, kubectlOk, plugin } from './harness.js';
import { FAST_FLAGS, expectRecreatedOnce, scenario, type Scenario } from './scenario.js';

const made: Scenario[] = [];
afterAll(async () => {
  for (const s of made) await s.drop();
});

/** The runner's RBAC from the plugin's own builder, with one verb taken away. */
async function installRbacWithout(namespace: string, resource: string, verb: string): Promise<void> {
  const rbac = buildRbac({ namespace });
  let removed = 0;
  rbac.role.rules = (rbac.role.rules ?? []).map((r) => {
    if (!r.resources?.includes(resource) || !r.verbs.includes(verb)) return r;
    removed++;
    return { ...r, verbs: r.verbs.filter((v) => v !== verb) };
  });
  expect(removed, `the builder grants ${verb} on ${resource}`).toBe(1);
  await kubectlOk(
    ['apply', '-f', '-'],
    rbacObjects(rbac)
      .map((o) => stringify(o))
      .join('---\n'),
  );
}

describe('RBAC is real', () => {
  it('without "delete pods" a dc_util rollout fails with Forbidden, exit 2 at once (no Job retry); nothing deleted, allocation untouched', async () => {
    const s = await scenario('e2e-rbac-delete', { dcUtil: true });
    made.push(s);
    await installRbacWithout(s.namespace, 'pods', 'delete');
    const r = await plugin(['rollout', `sts/${s.sts}`, '-n', s.namespace, '--image', RUNNER_IMAGE, ...FAST_FLAGS]);
    const out = r.stdout + r.stderr;
    expect(r.code, out).toBe(2);
    expect(out).toMatch(/Failed to delete pod: Forbidden/);
    expect(out).toMatch(/may not delete pods; grant it/);
    // A retry cannot help: the Job's podFailurePolicy fails it on exit 2, so one runner pod only.
    const runners = await kubectlJson([
      'get',
      'pods',
      '-n',
      s.namespace,
      '-l',
      'app.kubernetes.io/name=crate-decommission',
    ]);
    expect(runners.items).toHaveLength(1);
    expectRecreatedOnce(s, []);
    expect(await invariants(s.cluster)).toMatchObject({ ok: true, unintended: 0 });
    expect(await allocationSetting(s.cluster)).toBeUndefined();
  });

  it('without "create pods/exec" a run that must exec (no SQL credentials) fails naming the forbidden exec, not exit 0', async () => {
    const s = await scenario('e2e-rbac-exec', { dcUtil: false });
    made.push(s);
    await installRbacWithout(s.namespace, 'pods/exec', 'create');
    const r = await plugin(['rollout', `sts/${s.sts}`, '-n', s.namespace, '--image', RUNNER_IMAGE, ...FAST_FLAGS]);
    const out = r.stdout + r.stderr;
    expect(r.code, out).not.toBe(0);
    expect(out).toMatch(/forbidden/i);
    expect(out).toMatch(/pods\/exec|exec/);
    expectRecreatedOnce(s, []);
    expect(await invariants(s.cluster)).toMatchObject({ ok: true, unintended: 0 });
    expect(await allocationSetting(s.cluster)).toBeUndefined();
  });
});
