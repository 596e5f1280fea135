// `plan -f` on a table of manifests: the shared fixtures (test/fixtures/statefulsets) and our own.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { detectStrategy } from '../../../shared/detect/index.js';
import { planFromManifest } from '../../../plugin/plan-file.js';
import { runCli } from '../../../plugin/cli.js';
import { testContext } from './helpers.js';

const SHARED = join(import.meta.dirname, '../../fixtures/statefulsets');
const OWN = join(import.meta.dirname, 'fixtures');

// Expected values follow each fixture's header comment (dc_util's effective timeout and the delete grace period).
const TABLE: Array<[file: string, expected: Record<string, unknown>]> = [
  // No -proto (dc_util's default https) against a CrateDB serving plain HTTP: dc_util cannot connect (issue 8 item 1).
  [
    join(SHARED, 'crate-operator-data-hot.yaml'),
    {
      strategy: 'manual',
      hasPrestopHook: true,
      hasDcUtil: true,
      dcUtilTimeoutSeconds: 1080,
      dcUtilWillNotDecommission: true,
      dcUtilProto: 'https',
      servedScheme: 'http',
    },
  ],
  [
    join(SHARED, 'dc-util-direct-argv.yaml'),
    {
      strategy: 'manual',
      hasDcUtil: true,
      dcUtilTimeoutSeconds: 720,
      deleteGracePeriodSeconds: 30,
      dcUtilProto: 'https',
      servedScheme: 'http',
    },
  ],
  [
    join(SHARED, 'dc-util-proto-http.yaml'),
    {
      strategy: 'kubernetes_managed',
      hasDcUtil: true,
      dcUtilTimeoutSeconds: 1080,
      deleteGracePeriodSeconds: 1200,
      dcUtilProto: 'http',
      servedScheme: 'http',
    },
  ],
  [
    join(SHARED, 'dc-util-disabled.yaml'),
    { strategy: 'manual', hasPrestopHook: true, hasDcUtil: true, dcUtilWillNotDecommission: true },
  ],
  [
    join(SHARED, 'helm-service-and-statefulset.yaml'),
    { strategy: 'manual', hasDcUtil: true, dcUtilTimeoutSeconds: 900, dcUtilProto: 'https', servedScheme: 'http' },
  ],
  [join(SHARED, 'plain-manual.yaml'), { strategy: 'manual', hasPrestopHook: false, hasDcUtil: false }],
  [join(SHARED, 'sleep-prestop-single-node.yaml'), { strategy: 'manual', hasPrestopHook: true, hasDcUtil: false }],
];

const FIELDS = [
  'strategy',
  'hasPrestopHook',
  'hasDcUtil',
  'dcUtilTimeoutSeconds',
  'deleteGracePeriodSeconds',
  'minAvailability',
  'reasons',
];

describe('plan -f on the shared manifests', () => {
  it.each(TABLE)('%s', async (file, expected) => {
    const ctx = testContext({ files: { [file]: readFileSync(file, 'utf8') } });
    expect(await runCli(['plan', '-f', file, '-o', 'json'], ctx)).toBe(0);
    const list = JSON.parse(ctx.out.text) as {
      apiVersion: string;
      kind: string;
      items: Array<Record<string, unknown>>;
    };
    // One StatefulSet: still a List, its one item carrying the fields.
    expect(list).toMatchObject({ apiVersion: 'v1', kind: 'List' });
    expect(list.items).toHaveLength(1);
    const out = list.items[0]!;
    expect(out.kind).toBe('StatefulSetPlan');
    for (const f of FIELDS) expect(out).toHaveProperty(f);
    expect(out).toMatchObject(expected);
    expect(Array.isArray(out.reasons) && out.reasons.length > 0).toBe(true);
    expect(ctx.connectCalls).toBe(0);
  });
});

describe('plan -f shows the dc_util scheme check', () => {
  it("names dc_util's -proto and the scheme CrateDB serves, and why that means manual", async () => {
    const file = join(SHARED, 'crate-operator-data-hot.yaml');
    const ctx = testContext({ files: { [file]: readFileSync(file, 'utf8') } });
    expect(await runCli(['plan', '-f', file], ctx)).toBe(0);
    expect(ctx.out.text).toMatch(/strategy manual/);
    expect(ctx.out.text).toContain('dc_util -proto: https, CrateDB serves: http');
    expect(ctx.out.text).toContain('dc_util posts to https://127.0.0.1:4200');
  });
});

describe('plan -f on our own manifests', () => {
  it('several StatefulSets (a JSON List): statefulSets[] only, no top-level strategy', () => {
    const text = readFileSync(join(OWN, 'two-statefulsets.json'), 'utf8');
    const out = planFromManifest(text, 'two.json', detectStrategy);
    expect(out).not.toHaveProperty('strategy');
    expect(out.statefulSets.map((s) => [s.name, s.replicas, s.strategy])).toEqual([
      ['crate-data-hot', 3, 'kubernetes_managed'],
      ['crate-cold', 2, 'manual'],
    ]);
  });

  it('text output names every StatefulSet with its strategy and reasons', async () => {
    const file = join(OWN, 'two-statefulsets.json');
    const ctx = testContext({ files: { [file]: readFileSync(file, 'utf8') } });
    expect(await runCli(['plan', '-f', file], ctx)).toBe(0);
    expect(ctx.out.text).toMatch(/StatefulSet crate\/crate-data-hot: strategy kubernetes_managed/);
    expect(ctx.out.text).toMatch(/StatefulSet crate\/crate-cold: strategy manual/);
    expect(ctx.out.text).toMatch(/^ {2}- /m);
  });

  it('-o yaml works too, as the same List', async () => {
    const file = join(OWN, 'two-statefulsets.json');
    const ctx = testContext({ files: { [file]: readFileSync(file, 'utf8') } });
    expect(await runCli(['plan', '-f', file, '-o', 'yaml'], ctx)).toBe(0);
    const doc = parseYaml(ctx.out.text) as Record<string, any>;
    expect(doc).toMatchObject({ apiVersion: 'v1', kind: 'List', metadata: { source: file } });
    expect(doc.items.map((i: any) => [i.kind, i.name])).toEqual([
      ['StatefulSetPlan', 'crate-data-hot'],
      ['StatefulSetPlan', 'crate-cold'],
    ]);
  });

  it('-o json has ONE shape whatever the number of StatefulSets (issue 13): a List, same keys for 1 and for 2', async () => {
    const one = join(SHARED, 'plain-manual.yaml');
    const two = join(OWN, 'two-statefulsets.json');
    const shape = async (file: string) => {
      const ctx = testContext({ files: { [file]: readFileSync(file, 'utf8') } });
      expect(await runCli(['plan', '-f', file, '-o', 'json'], ctx)).toBe(0);
      const doc = JSON.parse(ctx.out.text) as Record<string, any>;
      return {
        top: Object.keys(doc).sort(),
        item: Object.keys(doc.items[0]).sort(),
        count: doc.items.length as number,
      };
    };
    const a = await shape(one);
    const b = await shape(two);
    expect(a.top).toEqual(['apiVersion', 'items', 'kind', 'metadata']);
    expect(b.top).toEqual(a.top);
    expect(b.item).toEqual(a.item);
    expect([a.count, b.count]).toEqual([1, 2]);
  });

  it('-o jsonpath reads the List as -o json prints it', async () => {
    const file = join(OWN, 'two-statefulsets.json');
    const ctx = testContext({ files: { [file]: readFileSync(file, 'utf8') } });
    expect(await runCli(['plan', '-f', file, '-o', 'jsonpath={.items[*].strategy}'], ctx)).toBe(0);
    expect(ctx.out.text.trim()).toBe('kubernetes_managed manual');
  });

  it.each([
    ['configmap-only.yaml', /no StatefulSet found/],
    ['broken.yaml', /cannot parse/],
  ])('%s -> exit 2', async (name, message) => {
    const file = join(OWN, name);
    const ctx = testContext({ files: { [file]: readFileSync(file, 'utf8') } });
    expect(await runCli(['plan', '-f', file, '-o', 'json'], ctx)).toBe(2);
    expect(ctx.err.text).toMatch(message);
    expect(ctx.out.text).toBe('');
  });
});
