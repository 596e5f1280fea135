// The Temporal workflow bundle (dist/lib/temporal/workflows.js): bundleWorkflowCode at build time, so a worker starts
// without running webpack. Rebuilt only when a file under shared/ is newer than the bundle (the workflows import
// types from the engine's schemas). `node scripts/build-temporal-workflows.mjs` builds it on its own.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function newestMtime(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

export async function buildWorkflowBundle(out, { force = false } = {}) {
  const src = 'shared/temporal/workflows';
  if (
    !force &&
    existsSync(out) &&
    statSync(out).mtimeMs >= Math.max(newestMtime(src), statSync('shared/temporal/contracts.ts').mtimeMs)
  )
    return false;
  const { bundleWorkflowCode } = await import('@temporalio/worker');
  const t = Date.now();
  const { code } = await bundleWorkflowCode({
    workflowsPath: join(process.cwd(), src, 'index.ts'),
    logger: quietLogger(),
  });
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, code);
  console.error(
    `build: Temporal workflow bundle ${out} (${(code.length / 1024).toFixed(0)} KiB) in ${((Date.now() - t) / 1000).toFixed(1)} s`,
  );
  return true;
}

function quietLogger() {
  const none = () => {};
  const warn = (m, meta) => console.error(`bundleWorkflowCode: ${m}${meta ? ` ${JSON.stringify(meta)}` : ''}`);
  return { trace: none, debug: none, info: none, log: none, warn, error: warn };
}

if (process.argv[1] === fileURLToPath(import.meta.url))
  await buildWorkflowBundle(process.argv[2] ?? 'dist/lib/temporal/workflows.js', { force: true });
