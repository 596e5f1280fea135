// npm run docs:cli [-- --check]: writes the reference part of docs/cli.md (between its markers) from the command
// definitions (via scripts/gen-cli-docs.ts); the hand-written prose outside the markers is kept as it is.
// --check writes nothing and exits 1 when docs/cli.md differs from what the definitions generate.
import { build } from 'esbuild';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');
const docPath = join(root, 'docs', 'cli.md');

// Bundle the TypeScript generator next to node_modules so its packages resolve; import it; remove it.
const tmp = join(root, 'node_modules', '.cache', `gen-cli-docs-${process.pid}.mjs`);
await mkdir(dirname(tmp), { recursive: true });
await build({
  entryPoints: [join(root, 'scripts', 'gen-cli-docs.ts')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  outfile: tmp,
  logLevel: 'warning',
});
let gen;
try {
  gen = await import(pathToFileURL(tmp).href);
} finally {
  await rm(tmp, { force: true });
}

const current = await readFile(docPath, 'utf8');
const next = gen.spliceReference(current, gen.cliReference());
if (next === current) {
  console.log('docs/cli.md is up to date');
} else if (check) {
  console.error('docs/cli.md differs from the command definitions: run npm run docs:cli');
  process.exitCode = 1;
} else {
  await writeFile(docPath, next);
  console.log('docs/cli.md: reference regenerated');
}
