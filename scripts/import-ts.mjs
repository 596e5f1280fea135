// Import a TypeScript module of this repo from a plain-node script (npm run manifests, npm run docs:cli): bundle it
// next to node_modules so its packages resolve, import it, remove the bundle.
import { build } from 'esbuild';
import { mkdir, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The module at `path` (relative to the repo root, e.g. scripts/gen-manifests.ts). */
export async function importTypeScript(path) {
  const tmp = join(root, 'node_modules', '.cache', `${basename(path, '.ts')}-${process.pid}.mjs`);
  await mkdir(dirname(tmp), { recursive: true });
  await build({
    entryPoints: [join(root, path)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outfile: tmp,
    logLevel: 'warning',
  });
  try {
    return await import(pathToFileURL(tmp).href);
  } finally {
    await rm(tmp, { force: true });
  }
}
