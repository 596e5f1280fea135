// `plan -f` input as a kubectl user gives it (issue 13, "plan -f"): not CrateDB, Helm templates, string replicas,
// YAML errors with a line, what-if flags and the namespace, single replica, directories, -R, URLs, stdin, and
// crate-operator CrateDB resources.
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../plugin/cli.js';
import { testContext } from './helpers.js';

const sts = (
  name: string,
  opts: { ns?: string; replicas?: string; containers?: string; preStop?: boolean } = {},
) => `apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: ${name}${opts.ns ? `\n  namespace: ${opts.ns}` : ''}
spec:
  replicas: ${opts.replicas ?? '3'}
  serviceName: ${name}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
${
  opts.containers ??
  `      containers:
        - name: crate
          image: crate:6.1.0
          ports: [{containerPort: 4200}]${
            opts.preStop
              ? `
          lifecycle: {preStop: {exec: {command: ["/dc_util", "-min-availability", "PRIMARIES", "-timeout", "600s", "-proto", "http"]}}}`
              : ''
          }`
}
`;

const POSTGRES = sts('pg', {
  containers: `      containers:
        - name: postgres
          image: postgres:16
          ports: [{containerPort: 5432}]`,
});
const NO_CONTAINERS = sts('empty', { containers: '      containers: []' });

async function plan(args: string[], files: Record<string, string>, stdin?: string) {
  const ctx = testContext({ files: { ...files, ...(stdin !== undefined ? { '-': stdin } : {}) } });
  const code = await runCli(['plan', ...args], ctx);
  return { code, ctx, json: () => JSON.parse(ctx.out.text) as Record<string, any> };
}

function expectBadInput(r: Awaited<ReturnType<typeof plan>>, message: RegExp) {
  expect(r.code).toBe(2);
  expect(r.ctx.out.text).toBe('');
  const lines = r.ctx.err.text.split('\n').filter(Boolean);
  expect(lines, r.ctx.err.text).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0]).toMatch(message);
  expect(r.ctx.connectCalls).toBe(0);
}

describe('not CrateDB', () => {
  it('a Postgres StatefulSet: not CrateDB, exit 2', async () => {
    expectBadInput(
      await plan(['-f', 'pg.yaml'], { 'pg.yaml': POSTGRES }),
      /StatefulSet pg in pg\.yaml is not CrateDB.*containers: postgres/,
    );
  });

  it('a StatefulSet without containers: not CrateDB, exit 2', async () => {
    expectBadInput(
      await plan(['-f', 'e.yaml'], { 'e.yaml': NO_CONTAINERS }),
      /StatefulSet empty in e\.yaml is not CrateDB.*no containers/,
    );
  });

  it('next to a CrateDB StatefulSet, a Postgres one is listed as skipped (exit 0)', async () => {
    const r = await plan(['-f', 'both.yaml', '-o', 'json'], { 'both.yaml': `${sts('crate')}---\n${POSTGRES}` });
    expect(r.code, r.ctx.err.text).toBe(0);
    const out = r.json();
    expect(out.items.map((s: any) => s.name)).toEqual(['crate']);
    expect(out.metadata.skipped).toEqual([
      expect.objectContaining({ kind: 'StatefulSet', name: 'pg', reason: expect.stringMatching(/not CrateDB/) }),
    ]);
  });
});

describe('Helm templates and bad documents', () => {
  const template = `apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ include "crate.fullname" . }}
spec:
  replicas: {{ .Values.replicas }}
  template:
    spec:
      containers:
        - name: crate
          image: "crate:{{ .Values.version }}"
`;

  it('an unrendered Helm template is named as one, with its line; no [object Object], no Node warning', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const r = await plan(['-f', 'templates/statefulset.yaml'], { 'templates/statefulset.yaml': template });
      expectBadInput(
        r,
        /templates\/statefulset\.yaml is an unrendered Helm template \(line 4: .*\{\{ include.*helm template/,
      );
      expect(r.ctx.err.text).not.toContain('[object Object]');
      await new Promise((res) => setTimeout(res, 10));
      expect(warnings).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('replicas: "3" is refused, as the API server would', async () => {
    expectBadInput(
      await plan(['-f', 's.yaml'], { 's.yaml': sts('crate', { replicas: '"3"' }) }),
      /spec\.replicas is the string "3", not a number.*replicas: 3/,
    );
  });

  it.each([['-1'], ['1.5']])('replicas: %s is refused', async (v) => {
    expectBadInput(await plan(['-f', 's.yaml'], { 's.yaml': sts('crate', { replicas: v }) }), /spec\.replicas/);
  });

  it('invalid YAML names the line', async () => {
    expectBadInput(
      await plan(['-f', 'b.yaml'], {
        'b.yaml': 'apiVersion: v1\nkind: StatefulSet\nmetadata:\n  name: [x\n  bad: }\n',
      }),
      /cannot parse b\.yaml \(line \d+(, column \d+)?\)/,
    );
  });

  it('invalid JSON names the line', async () => {
    expectBadInput(
      await plan(['-f', 'b.json'], {
        'b.json': '{\n  "kind": "StatefulSet",\n  "metadata": {"name": "x",}\n  oops\n}\n',
      }),
      /cannot parse b\.json \(line \d+/,
    );
  });
});

describe('what-if flags and the namespace', () => {
  it("shows the namespace it assumes: the manifest's, else -n, else default", async () => {
    const files = { 'a.yaml': sts('crate', { ns: 'prod' }), 'b.yaml': sts('crate') };
    expect((await plan(['-f', 'a.yaml', '-o', 'json'], files)).json().items[0]).toMatchObject({
      namespace: 'prod',
      namespaceFrom: 'manifest',
    });
    expect((await plan(['-f', 'b.yaml', '-n', 'crate', '-o', 'json'], files)).json().items[0]).toMatchObject({
      namespace: 'crate',
      namespaceFrom: '-n',
    });
    expect((await plan(['-f', 'b.yaml', '-o', 'json'], files)).json().items[0]).toMatchObject({
      namespace: 'default',
      namespaceFrom: 'default',
    });
    const text = await plan(['-f', 'b.yaml'], files);
    expect(text.ctx.out.text).toMatch(/StatefulSet default\/crate/);
    expect(text.ctx.out.text).toMatch(/namespace default assumed/);
  });

  it('-n that contradicts the manifest is refused, as kubectl does', async () => {
    expectBadInput(
      await plan(['-f', 'a.yaml', '-n', 'other'], { 'a.yaml': sts('crate', { ns: 'prod' }) }),
      /namespace "prod".*does not match.*"other"/,
    );
  });

  it('--timeout and --min-availability apply to what the engine decommissions (manual), as a what-if', async () => {
    const r = await plan(['-f', 'm.yaml', '--timeout', '20m', '--min-availability', 'FULL', '-o', 'json'], {
      'm.yaml': sts('crate'),
    });
    expect(r.code, r.ctx.err.text).toBe(0);
    expect(r.json().items[0]).toMatchObject({
      strategy: 'manual',
      decommission: { by: 'engine', timeoutSeconds: 1200, minAvailability: 'FULL' },
    });
  });

  it("for dc_util (kubernetes_managed) the flags do not apply: dc_util's own values are shown, and that is said", async () => {
    const r = await plan(['-f', 'k.yaml', '--timeout', '20m', '-o', 'json'], {
      'k.yaml': sts('crate-data-hot', { preStop: true }),
    });
    expect(r.code, r.ctx.err.text).toBe(0);
    const s = r.json().items[0];
    expect(s).toMatchObject({
      strategy: 'kubernetes_managed',
      decommission: { by: 'dc_util', timeoutSeconds: 600, minAvailability: 'PRIMARIES' },
    });
    expect(s.warnings.join(' ')).toMatch(/decommission timeout.*not apply.*dc_util/);
  });
});

describe('single replica', () => {
  it('a single-replica StatefulSet is warned about (the shared fixture says the plan must)', async () => {
    const r = await plan(['-f', 'one.yaml', '-o', 'json'], { 'one.yaml': sts('crate-dev', { replicas: '1' }) });
    expect(r.code).toBe(0);
    expect(r.json().items[0].warnings.join(' ')).toMatch(/1 replica.*unavailable/);
    const text = await plan(['-f', 'one.yaml'], { 'one.yaml': sts('crate-dev', { replicas: '1' }) });
    expect(text.ctx.out.text).toMatch(/warning: .*1 replica/);
  });

  it('unset replicas count as 1 (the API default) and are warned about', async () => {
    const r = await plan(['-f', 'one.yaml', '-o', 'json'], {
      'one.yaml': sts('crate-dev').replace('  replicas: 3\n', ''),
    });
    expect(r.json().items[0]).toMatchObject({ replicas: 1 });
    expect(r.json().items[0].warnings.join(' ')).toMatch(/1 replica/);
  });
});

describe('where -f reads from', () => {
  const dir = {
    'm/a.yaml': sts('crate-a'),
    'm/b.json': JSON.stringify({
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'crate-b' },
      spec: { replicas: 3, template: { spec: { containers: [{ name: 'crate', image: 'crate:6' }] } } },
    }),
    'm/notes.txt': 'not a manifest',
    'm/sub/c.yml': sts('crate-c'),
  };

  it('a directory: its .yaml, .yml and .json files (not subdirectories)', async () => {
    const r = await plan(['-f', 'm', '-o', 'json'], dir);
    expect(r.code, r.ctx.err.text).toBe(0);
    expect(r.json().items.map((s: any) => s.name)).toEqual(['crate-a', 'crate-b']);
  });

  it('-R: subdirectories too', async () => {
    const r = await plan(['-f', 'm', '-R', '-o', 'json'], dir);
    expect(r.json().items.map((s: any) => s.name)).toEqual(['crate-a', 'crate-b', 'crate-c']);
  });

  it('several -f', async () => {
    const r = await plan(['-f', 'm/a.yaml', '-f', 'm/sub/c.yml', '-o', 'json'], dir);
    expect(r.json().items.map((s: any) => s.name)).toEqual(['crate-a', 'crate-c']);
  });

  it('-f - reads stdin', async () => {
    const r = await plan(['-f', '-', '-o', 'json'], {}, sts('from-stdin'));
    expect(r.code, r.ctx.err.text).toBe(0);
    expect(r.json().items[0].name).toBe('from-stdin');
  });

  it.each(['https://example.com/sts.yaml', 'http://10.0.0.1/x.yaml'])(
    'a URL (%s) is refused with what to do',
    async (url) => {
      expectBadInput(
        await plan(['-f', url], {}),
        /plan -f reads local files only.*curl -fsSL .* \| kubectl crate-decommission plan -f -/,
      );
    },
  );

  it('an empty directory has no StatefulSet', async () => {
    expectBadInput(
      await plan(['-f', 'm/sub', '-o', 'json'], { 'm/sub/readme.md': 'x' }),
      /no StatefulSet found in m\/sub/,
    );
  });
});

describe('a crate-operator CrateDB resource', () => {
  const cratedb = `apiVersion: cloud.crate.io/v1
kind: CrateDB
metadata: {name: prod, namespace: crate}
spec:
  cluster: {name: prod, version: 6.1.0, imageRegistry: crate}
  nodes:
    master: {replicas: 3}
    data:
      - {name: hot, replicas: 3}
      - {name: cold, replicas: 2}
`;

  it('is refused with the StatefulSets it stands for and what to do', async () => {
    expectBadInput(
      await plan(['-f', 'cr.yaml'], { 'cr.yaml': cratedb }),
      /CrateDB crate\/prod stands for the StatefulSets crate-master-prod \(3\), crate-data-hot-prod \(3\), crate-data-cold-prod \(2\).*plan cratedb\/prod -n crate/,
    );
  });

  it('next to StatefulSets it is listed as skipped', async () => {
    const r = await plan(['-f', 'x.yaml', '-o', 'json'], {
      'x.yaml': `${cratedb}---\n${sts('crate-data-hot-prod', { ns: 'crate' })}`,
    });
    expect(r.code, r.ctx.err.text).toBe(0);
    expect(r.json().metadata.skipped).toEqual([expect.objectContaining({ kind: 'CrateDB', name: 'prod' })]);
  });
});
