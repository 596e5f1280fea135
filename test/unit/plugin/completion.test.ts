// Completion of resource names for kubectl's plugin completion (kubectl_complete-crate_decommission ->
// `__complete`): pods, StatefulSets, CrateDBs and runner Jobs of the namespace, through an injected lister,
// bounded by a timeout, silent on failure.
import { describe, expect, it } from 'vitest';
import type { KubernetesObject } from '@kubernetes/client-node';
import {
  completeCommandLine,
  connectOptionsFromWords,
  kubeResourceLister,
  resourceQueryFor,
  type ResourceKind,
  type ResourceLister,
} from '../../../plugin/commands/completion.js';
import { runCli } from '../../../plugin/cli.js';
import { FakePluginKube, statefulSet, testContext } from './helpers.js';

const NAMES: Record<ResourceKind, string[]> = {
  pod: ['crate-0', 'crate-1', 'other-0'],
  statefulset: ['crate', 'other'],
  cratedb: ['prod'],
  job: ['crate-decommission-rollout-crate-abcde'],
  namespace: ['crate', 'default', 'kube-system'],
  context: ['prod', 'staging'],
  cluster: ['prod-cluster'],
  user: ['admin'],
};

function lister(calls: Array<[ResourceKind, string | undefined]> = []): ResourceLister {
  return async (kind, namespace) => {
    calls.push([kind, namespace]);
    return NAMES[kind];
  };
}

describe('resourceQueryFor: which word is a resource name', () => {
  it.each([
    [['restart', ''], { kind: 'pod', prefix: '' }],
    [['decommission', 'pod/cr'], { kind: 'pod', prefix: 'pod/' }],
    [['rollout', ''], { kind: 'statefulset', prefix: '' }],
    [['plan', 'sts/'], { kind: 'statefulset', prefix: 'sts/' }],
    [['health', 'cratedb/p'], { kind: 'cratedb', prefix: 'cratedb/' }],
    [['rollout', '-n', 'crate', 'po/'], { kind: 'pod', prefix: 'po/' }],
    [['schedule', 'create', ''], { kind: 'statefulset', prefix: '' }],
    [['jobs', 'cancel', ''], { kind: 'job', prefix: '' }],
  ] as const)('%j -> %j', (words, expected) => {
    expect(resourceQueryFor([...words])).toMatchObject(expected);
  });

  it.each([
    [['']],
    [['ro']],
    [['rollout', 'sts/x', '']], // the target is given already
    [['rollout', '--ti']],
    [['rollout', 'x', '-o', '']], // a flag's value
    [['restart', 'sts/']], // a pod command takes no StatefulSet
    [['rollout', 'deployment/']],
    [['jobs', 'list', '']],
    [['rbac', 'install', '']],
  ])('%j -> not a resource', (words) => {
    expect(resourceQueryFor(words)).toBeNull();
  });

  it('the namespace of -n / --namespace / --namespace=', () => {
    expect(resourceQueryFor(['restart', '-n', 'crate', ''])?.namespace).toBe('crate');
    expect(resourceQueryFor(['-n', 'a', 'restart', ''])?.namespace).toBe('a');
    expect(resourceQueryFor(['restart', '--namespace=b', ''])?.namespace).toBe('b');
    expect(resourceQueryFor(['restart', ''])?.namespace).toBeUndefined();
  });

  it('kubeconfig flags are passed on to the connection', () => {
    expect(
      connectOptionsFromWords([
        'rollout',
        '--context',
        'prod',
        '--kubeconfig=/k',
        '-n',
        'crate',
        '--insecure-skip-tls-verify',
        '',
      ]),
    ).toEqual({
      context: 'prod',
      kubeconfig: '/k',
      namespace: 'crate',
      insecureSkipTlsVerify: true,
    });
  });
});

describe('completeCommandLine with an injected lister', () => {
  it.each([
    [['restart', ''], ['crate-0', 'crate-1', 'other-0'], 4],
    [['restart', 'cr'], ['crate-0', 'crate-1'], 4],
    [['decommission', 'pod/o'], ['pod/other-0'], 4],
    [['rollout', ''], ['crate', 'other'], 4],
    [['rollout', 'sts/c'], ['sts/crate'], 4],
    [['plan', 'cratedb/'], ['cratedb/prod'], 4],
    [['jobs', 'attach', ''], ['crate-decommission-rollout-crate-abcde'], 4],
    // no StatefulSet starts with "st": the kind prefix, without a space after it
    [['rollout', 'st'], ['sts/'], 6],
    // static parts are unchanged
    [['rollout', 'crate', '--dec'], ['--decommission-timeout'], 4],
    [['ro'], ['rollout'], 4],
  ] as const)('%j -> %j :%d', async (words, candidates, directive) => {
    expect(await completeCommandLine([...words], lister())).toEqual({ candidates, directive });
  });

  it('asks for the kind and the namespace of -n', async () => {
    const calls: Array<[ResourceKind, string | undefined]> = [];
    await completeCommandLine(['restart', '-n', 'crate', ''], lister(calls));
    await completeCommandLine(['jobs', 'cancel', ''], lister(calls));
    expect(calls).toEqual([
      ['pod', 'crate'],
      ['job', undefined],
    ]);
  });

  it('a lister that hangs is cut off by the timeout: no names, no error', async () => {
    const started = performance.now();
    const r = await completeCommandLine(['restart', ''], () => new Promise<string[]>(() => {}), { timeoutMs: 50 });
    expect(r).toEqual({ candidates: [], directive: 4 });
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('a lister that fails (no kubeconfig, Forbidden, a bug) gives no names, silently', async () => {
    expect(await completeCommandLine(['restart', ''], async () => Promise.reject(new Error('Forbidden')))).toEqual({
      candidates: [],
      directive: 4,
    });
    expect(
      await completeCommandLine(['restart', ''], () => {
        throw new Error('sync');
      }),
    ).toEqual({ candidates: [], directive: 4 });
  });
});

describe('__complete through the plugin connection', () => {
  function cluster(): FakePluginKube {
    const kube = new FakePluginKube();
    kube.put(statefulSet('crate', 'crate'));
    const pod = (name: string, ns: string, owner: string | null): KubernetesObject => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace: ns,
        ...(owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: owner, uid: 'u' }] } : {}),
      },
    });
    kube.put(pod('crate-0', 'crate', 'crate'));
    kube.put(pod('crate-1', 'crate', 'crate'));
    kube.put(pod('debug-shell', 'crate', null)); // not a StatefulSet pod: not offered
    kube.put(pod('elsewhere-0', 'other', 'elsewhere'));
    kube.put({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: {
        name: 'crate-decommission-rollout-crate-x1y2z',
        namespace: 'crate',
        labels: { 'app.kubernetes.io/name': 'crate-decommission' },
      },
    });
    kube.put({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'unrelated', namespace: 'crate' } });
    return kube;
  }

  it('pods of the -n namespace owned by a StatefulSet', async () => {
    const ctx = testContext({ kube: cluster() });
    expect(await runCli(['__complete', 'restart', '-n', 'crate', ''], ctx)).toBe(0);
    expect(ctx.out.lines).toEqual(['crate-0', 'crate-1', ':4']);
  });

  it("the context's namespace when -n is absent", async () => {
    const ctx = testContext({ kube: cluster(), namespace: 'crate' });
    expect(await runCli(['__complete', 'rollout', 'sts/'], ctx)).toBe(0);
    expect(ctx.out.lines).toEqual(['sts/crate', ':4']);
  });

  it('runner Jobs only', async () => {
    const ctx = testContext({ kube: cluster(), namespace: 'crate' });
    expect(await runCli(['__complete', 'jobs', 'cancel', ''], ctx)).toBe(0);
    expect(ctx.out.lines).toEqual(['crate-decommission-rollout-crate-x1y2z', ':4']);
  });

  it('no cluster (connect fails): exit 0, no names, nothing on stderr', async () => {
    const ctx = testContext();
    expect(await runCli(['__complete', 'restart', ''], ctx)).toBe(0);
    expect(ctx.out.lines).toEqual([':4']);
    expect(ctx.err.text).toBe('');
  });

  it('the lister connects with a bounded request timeout and the command line kubeconfig flags', async () => {
    const seen: unknown[] = [];
    const kube = cluster();
    const l = kubeResourceLister(
      {
        connect: async (opts) => {
          seen.push(opts);
          return { namespace: 'crate', kube, identity: 'x', engineDeps: async () => ({}) as never };
        },
      },
      { context: 'prod' },
    );
    expect(await l('statefulset', undefined)).toEqual(['crate']);
    expect(seen).toEqual([{ requestTimeout: '2s', context: 'prod' }]);
  });
});
