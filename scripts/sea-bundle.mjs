// The single executable's code (scripts/build-binary.mjs, step 1): the plugin split into chunks the way the npm build
// splits it (esbuild `splitting`), each chunk turned into CommonJS, and one main script holding only what every start
// needs: the entry and the chunks it imports statically (yargs, yaml, zod, the command declarations, the offline
// detection). Those are evaluated at build time into the V8 startup snapshot. The chunks reached only through import()
// (client-node, undici, listr2, prom-client, the engine: about 70% of the code) are SEA assets instead: outside the
// snapshot, which every start deserializes whole (about 3-4 ms of CPU per MB of snapshot), and compiled on first use.
//
// The main script is a small module table: `__seaRequire('./chunk-X.js')` runs a chunk once (in the main script, or
// fetched with node:sea getAsset and compiled with node:vm), any other name is Node's built-in require.
import { build, transform } from 'esbuild';
import { readFileSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';

/** The wrapper every chunk's CommonJS code runs in (main script and assets alike). */
export const CHUNK_PARAMS = 'exports, require, module';

/**
 * Bundles `entry` into `work`: `main.cjs` (the SEA main) and `chunks/<name>.js` (the lazily loaded chunks, SEA assets
 * under the key `<name>.js`). Returns the asset map for the SEA config and the sizes.
 */
export async function bundleForSea({ entry, work, esbuildOptions }) {
  const esm = join(work, 'esm');
  rmSync(esm, { recursive: true, force: true });
  const { metafile } = await build({
    ...esbuildOptions,
    entryPoints: { main: entry },
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    splitting: true,
    outdir: esm,
    entryNames: '[name]',
    chunkNames: '[name]-[hash]',
    metafile: true,
    write: true,
  });
  const outputs = Object.entries(metafile.outputs).map(([path, o]) => ({ path, name: basename(path), ...o }));
  const byName = new Map(outputs.map((o) => [o.name, o]));
  const main = outputs.find((o) => o.entryPoint !== undefined && o.name === 'main.js');
  if (!main) throw new Error('esbuild wrote no main.js');
  // What the entry imports statically, transitively: evaluated at build time, in the snapshot.
  const eager = new Set([main.name]);
  const queue = [main];
  while (queue.length > 0) {
    const o = queue.shift();
    for (const i of o.imports) {
      if (i.kind !== 'import-statement' || i.external) continue;
      const dep = byName.get(basename(i.path));
      if (dep && !eager.has(dep.name)) {
        eager.add(dep.name);
        queue.push(dep);
      }
    }
  }
  const cjs = new Map();
  for (const o of outputs) {
    const code = readFileSync(o.path, 'utf8');
    // ESM -> CommonJS: `import {a} from './chunk-X.js'` becomes `require('./chunk-X.js')` with live bindings through
    // property reads; `import('./chunk-Y.js')` becomes `Promise.resolve().then(() => require('./chunk-Y.js'))`.
    const r = await transform(code, {
      format: 'cjs',
      platform: 'node',
      target: 'node24',
      minify: esbuildOptions.minify === true,
      keepNames: esbuildOptions.keepNames === true,
      legalComments: 'none',
      charset: 'ascii',
      // import() becomes a require() in a promise: a script compiled by node:vm has no dynamic import of its own.
      supported: { 'dynamic-import': false },
      logLevel: 'error',
    });
    for (const m of r.code.matchAll(/\brequire\("(\.\/[^"]+)"\)/g)) {
      if (!byName.has(m[1].slice(2))) throw new Error(`${o.name} requires ${m[1]}, which esbuild did not write`);
    }
    cjs.set(o.name, r.code);
  }
  const wrap = (code) => `function(${CHUNK_PARAMS}){"use strict";${code}\n}`;
  const lazy = outputs.filter((o) => !eager.has(o.name)).map((o) => o.name);
  const table = [...eager]
    .filter((n) => n !== main.name)
    .map((n) => `${JSON.stringify(`./${n}`)}:${wrap(cjs.get(n))}`)
    .join(',\n');
  const mainScript = `"use strict";
var __seaChunks={${table}};
var __seaLazy=${JSON.stringify(lazy)};
var __seaModules=Object.create(null);
function __seaRequire(id){
  if(typeof id!=="string"||!id.startsWith("./"))return require(id);
  var m=__seaModules[id];
  if(m)return m.exports;
  m=__seaModules[id]={exports:{}};
  var f=__seaChunks[id]||__seaLoad(id.slice(2));
  f.call(m.exports,m.exports,__seaRequire,m);
  return m.exports;
}
${SEA_LOAD}
(${wrap(cjs.get(main.name))})({},__seaRequire,{exports:{}});
`;
  writeFileSync(join(work, 'main.cjs'), mainScript);
  const chunkDir = join(work, 'chunks');
  rmSync(chunkDir, { recursive: true, force: true });
  mkdirSync(chunkDir, { recursive: true });
  const assets = {};
  for (const name of lazy) {
    const file = join(chunkDir, name);
    writeFileSync(file, `(${wrap(cjs.get(name))})`);
    assets[name] = file;
  }
  rmSync(esm, { recursive: true, force: true });
  return {
    main: join(work, 'main.cjs'),
    assets,
    eagerBytes: Buffer.byteLength(mainScript),
    lazyBytes: lazy.reduce((n, name) => n + Buffer.byteLength(cjs.get(name)), 0),
  };
}

/**
 * A lazily loaded chunk: its source from the SEA asset `<name>`, compiled when first required. (No code cache: V8
 * takes one only from a process started from the very snapshot that uses it, and a snapshot is not reproducible, so
 * a cache written at build time is always refused.) The filename is what stack traces show.
 */
const SEA_LOAD = `function __seaLoad(name){
  var source=require("node:sea").getAsset(name,"utf8");
  return new (require("node:vm").Script)(source,{filename:"kubectl-crate_decommission/"+name}).runInThisContext();
}`;
