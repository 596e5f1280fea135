// The layer rules (.dependency-cruiser.cjs, docs/architecture.md) are real: a small tree that breaks each rule once
// fails the check with exactly those violations (and its allowed imports pass), and the repository itself passes.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..', '..');
const node24 = join(root, 'node_modules', 'node', 'bin', 'node');
const depcruise = join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruiser.mjs');
const config = join(root, '.dependency-cruiser.cjs');

interface Violation {
  rule: string;
  from: string;
  to: string;
}

function cruise(cwd: string, dirs: string[]): { status: number | null; violations: Violation[]; output: string } {
  // The `err` reporter sets the exit code (the json one does not); its lines read `error <rule>: <from> → <to>`.
  const r = spawnSync(node24, [depcruise, '--config', config, '--output-type', 'err', ...dirs], {
    cwd,
    encoding: 'utf8',
  });
  const violations: Violation[] = [];
  for (const line of r.stdout.split('\n')) {
    const m = /^\s*error (\S+): (\S+) → (\S+)$/.exec(line);
    if (m) violations.push({ rule: m[1]!, from: m[2]!, to: m[3]!.replace(/^.*node_modules\//, 'node_modules/') });
  }
  return { status: r.status, violations, output: `${r.stdout}${r.stderr}` };
}

// One file per case. `// breaks:` marks the imports the rules must refuse; the others are allowed.
const TREE: Record<string, string> = {
  'tsconfig.json': JSON.stringify({
    compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true },
  }),
  'package.json': JSON.stringify({ type: 'module' }),
  'runner/main.ts':
    "import { b } from '../plugin/b.js'; // breaks: runner-imports-plugin\nimport { task } from '../shared/task/index.js';\nexport const m = [b, task];\n",
  'plugin/b.ts': "import { c } from '../runner/c.js'; // breaks: plugin-imports-runner\nexport const b = c;\n",
  'runner/c.ts': 'export const c = 1;\n',
  'shared/engine.ts':
    "import { b } from '../plugin/b.js'; // breaks: engine-imports-front-end\nimport { fake } from '../test/unit/fake.js'; // breaks: imports-test\nimport { exitCode } from './task/exit.js'; // breaks: engine-imports-task\nexport const engine = [b, fake, exitCode];\n",
  'shared/index.ts': "export { engine } from './engine.js';\nexport type Engine = string;\n",
  'shared/task/exit.ts': 'export const exitCode = 3;\n',
  'shared/task/index.ts': "export { exitCode } from './exit.js';\nexport const task = 1;\n",
  'shared/adapters/kube.ts':
    "import { KubeConfig } from '@kubernetes/client-node';\nimport { Agent } from 'undici';\nexport const kube = [KubeConfig, Agent];\n",
  'shared/adapters/index.ts': "export { kube } from './kube.js';\n",
  'plugin/client.ts':
    "import { KubeConfig } from '@kubernetes/client-node'; // breaks: kubernetes-client-outside-adapters\nimport type { V1Pod } from '@kubernetes/client-node';\nexport const k: Array<typeof KubeConfig | V1Pod> = [];\n",
  'plugin/http.ts':
    "import { fetch } from 'undici'; // breaks: kubernetes-client-outside-adapters\nexport const f = fetch;\n",
  'plugin/bypass.ts':
    "import { exitCode } from '../shared/task/exit.js'; // breaks: front-end-bypasses-index\nexport const e = exitCode;\n",
  'plugin/eager.ts':
    "import { engine } from '../shared/index.js'; // breaks: engine-loaded-eagerly\nexport const e = engine;\n",
  'plugin/allowed.ts':
    "import type { Engine } from '../shared/index.js';\nimport type { kube } from '../shared/adapters/index.js';\nimport { task } from '../shared/task/index.js';\nexport async function load(): Promise<[Engine, typeof kube, number, unknown]> {\n  return ['', [], task, (await import('../shared/index.js')).engine];\n}\nexport const lazyAdapters = () => import('../shared/adapters/index.js');\n",
  'scripts/gen.ts': "import { fake } from '../test/unit/fake.js'; // breaks: imports-test\nexport const g = fake;\n",
  'bench/run.ts':
    "import { fake } from '../test/unit/fake.js'; // breaks: bench-imports-test-unit\nimport { support } from '../test/support/fake.js';\nexport const r = [fake, support];\n",
  'test/unit/fake.ts': "import { KubeConfig } from '@kubernetes/client-node';\nexport const fake = KubeConfig;\n",
  'test/support/fake.ts': "import { KubeConfig } from '@kubernetes/client-node';\nexport const support = KubeConfig;\n",
};

function expectedViolations(): Violation[] {
  const out: Violation[] = [];
  for (const [file, text] of Object.entries(TREE)) {
    for (const line of text.split('\n')) {
      const m = /from '([^']+)'; \/\/ breaks: (\S+)/.exec(line);
      if (!m) continue;
      const spec = m[1]!;
      const to = spec.startsWith('.') ? join(dirname(file), spec).replace(/\.js$/, '.ts') : spec;
      out.push({ rule: m[2]!, from: file, to });
    }
  }
  return out;
}

const sortV = (vs: Violation[]) =>
  vs
    .map((v) => ({ ...v, to: v.to.replace(/^node_modules\/((@[^/]+\/)?[^/]+)\/.*$/, '$1') }))
    .sort((a, b) => `${a.rule}${a.from}${a.to}`.localeCompare(`${b.rule}${b.from}${b.to}`));

describe('layer rules (dependency-cruiser)', () => {
  const tree = mkdtempSync(join(tmpdir(), 'cd-layers-'));
  afterAll(() => rmSync(tree, { recursive: true, force: true }));

  it('a tree that breaks each rule once fails with exactly those violations', () => {
    for (const [file, text] of Object.entries(TREE)) {
      mkdirSync(dirname(join(tree, file)), { recursive: true });
      writeFileSync(join(tree, file), text);
    }
    symlinkSync(join(root, 'node_modules'), join(tree, 'node_modules'));
    const r = cruise(tree, ['plugin', 'runner', 'shared', 'scripts', 'bench', 'test']);
    expect(r.status, r.output).not.toBe(0);
    const expected = expectedViolations();
    // Every rule of the config is broken at least once: none of them is vacuous.
    expect(new Set(expected.map((v) => v.rule)).size).toBe(9);
    expect(sortV(r.violations)).toEqual(sortV(expected));
  }, 120_000);

  it('the repository keeps them (npm run test:layers)', () => {
    const r = cruise(root, ['plugin', 'runner', 'shared', 'scripts', 'bench', 'test']);
    expect(r.violations).toEqual([]);
    expect(r.status, r.output).toBe(0);
    // It did look at the code: every module of the front ends, the engine, scripts and tests.
    const cruised = Number(/no dependency violations found \((\d+) modules/.exec(r.output)?.[1] ?? 0);
    expect(cruised).toBeGreaterThan(200);
  }, 120_000);
});
