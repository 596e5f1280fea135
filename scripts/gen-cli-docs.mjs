// npm run docs:cli [-- --check]: writes the reference part of docs/cli.md (between its markers) from the command
// definitions (via scripts/gen-cli-docs.ts); the hand-written prose outside the markers is kept as it is.
// --check writes nothing and exits 1 when docs/cli.md differs from what the definitions generate.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { importTypeScript, root } from './import-ts.mjs';

const check = process.argv.includes('--check');
const docPath = join(root, 'docs', 'cli.md');

const gen = await importTypeScript('scripts/gen-cli-docs.ts');

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
