// Exports of plugin/, runner/, shared/ and scripts/ that only tests (test/, bench/) import: knip's unused exports
// when only the production entries count (`--production`, the `!` entries of knip.json: the plugin, the runner, the
// Temporal worker and workflows, the scripts) minus its unused exports when the tests count too. What is left is
// used by a test and by no production file other than its own. docs/architecture.md ("Exports used only by
// tests") says which of them are kept and why.
//
//   node scripts/test-only-exports.mjs [--list]     (runs knip 6.44.2 through npx; no devDependency)
import { execFileSync } from 'node:child_process';

const KNIP = ['--yes', 'knip@6.44.2', '--config', 'knip.json', '--reporter', 'json'];
const KINDS = ['exports', 'types', 'nsExports', 'nsTypes', 'enumMembers'];

function unused(extra) {
  let out;
  try {
    out = execFileSync('npx', [...KNIP, '--include', KINDS.join(','), ...extra], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
  } catch (err) {
    // knip exits 1 when it reports anything: its JSON is on stdout all the same.
    if (typeof err.stdout !== 'string' || !err.stdout.trim().startsWith('{')) throw err;
    out = err.stdout;
  }
  const found = new Map();
  for (const issue of JSON.parse(out).issues) {
    for (const kind of KINDS) {
      for (const e of issue[kind] ?? []) found.set(`${issue.file}:${e.name}`, { kind, line: e.line });
    }
  }
  return found;
}

const everywhere = unused([]);
const production = unused(['--production']);
const testOnly = [...production]
  .filter(([key]) => !everywhere.has(key) && /^(plugin|runner|shared|scripts)\//.test(key))
  .sort(([a], [b]) => a.localeCompare(b));
if (process.argv.includes('--list')) {
  for (const [key, { kind, line }] of testOnly) console.log(`${key.replace(/:/, `:${line} `)} (${kind})`);
}
const count = (kind) => testOnly.filter(([, v]) => v.kind === kind).length;
console.log(`${testOnly.length} exports used only by tests (${count('exports')} values, ${count('types')} types)`);
