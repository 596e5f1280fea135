// scripts/build-options.mjs `httpAsCommonJs`: static imports of node:http become a require() (no ES module namespace
// of node:http, so Node's own undici stays unloaded); import() stays the builtin itself, which a split bundle needs.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';

// scripts/ is plain JavaScript without declarations: loaded by URL, typed here.
const { httpAsCommonJs } = (await import(
  pathToFileURL(join(import.meta.dirname, '..', '..', '..', 'scripts', 'build-options.mjs')).href
)) as { httpAsCommonJs: Plugin };
const dir = mkdtempSync(join(tmpdir(), 'http-as-cjs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function bundle(name: string, source: string): Promise<{ code: string; mod: Record<string, unknown> }> {
  const entry = join(dir, `${name}.mjs`);
  writeFileSync(entry, source);
  const outdir = join(dir, `out-${name}`);
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    splitting: true,
    outdir,
    outExtension: { '.js': '.mjs' },
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    plugins: [httpAsCommonJs],
    logLevel: 'silent',
  });
  const out = join(outdir, `${name}.mjs`);
  return { code: readFileSync(out, 'utf8'), mod: (await import(pathToFileURL(out).href)) as Record<string, unknown> };
}

describe('httpAsCommonJs', () => {
  it('turns named, namespace and default imports of node:http into a require() that works', async () => {
    const { code, mod } = await bundle(
      'static',
      "import { STATUS_CODES } from 'node:http'; import * as ns from 'http'; import def from 'node:http';\n" +
        'export const a = STATUS_CODES[404]; export const b = typeof ns.createServer; export const c = typeof def.request;',
    );
    expect(code).not.toMatch(/from\s*["']node:http["']/);
    expect(mod).toMatchObject({ a: 'Not Found', b: 'function', c: 'function' });
  });

  it('leaves import() of node:http to Node (named exports stay, also in a split bundle)', async () => {
    const { mod } = await bundle(
      'dynamic',
      "export const t = async () => typeof (await import('node:http')).createServer;",
    );
    expect(await (mod.t as () => Promise<string>)()).toBe('function');
  });
});
