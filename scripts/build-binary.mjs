// npm run build:binary [-- options]: a single executable of the plugin (Node's Single Executable
// Applications), offline: esbuild bundles the plugin into one CommonJS file, `node --experimental-sea-config`
// turns it into a blob (with a V8 startup snapshot for this machine's platform), and postject injects the blob
// into a copy of a Node binary of the SAME version. Nothing is downloaded.
//
//   --entry FILE        entry point (default plugin/main.ts)
//   --target OS-ARCH    linux|darwin|win32 - x64|arm64 (default: this machine)
//   --base FILE         the target platform's node binary (default: node_modules/node/bin/node when
//                       the target is this machine, else required)
//   --blob-node FILE    a node binary that runs HERE, same version as --base, to write the blob
//                       (default: --base when it runs here)
//   --out FILE          default dist/kubectl-crate_decommission (+ .exe for win32); next to it (not for win32)
//                       the completion helper kubectl_complete-crate_decommission, so that the README's
//                       `export PATH="$PWD/dist:$PATH"` also gives `kubectl crate-decommission <TAB>`
//   --work DIR          scratch directory (default dist/lib/sea/OS-ARCH)
//   --no-strip          keep the base binary's symbols (default: strip ELF symbols when `strip` exists)
//   --no-snapshot       no V8 startup snapshot (default: one when the target is this machine; see step 2)
//   --archive DIR       also write the release archive into DIR: kubectl-crate_decommission_VERSION_OS_ARCH
//                       .tar.gz (.zip for windows) holding the executable and LICENSE (krew's layout)
//   --version vX.Y.Z    version in the archive name (default v + package.json version)
//   --allow-unsigned    darwin targets built off macOS: keep going without re-signing (the result
//                       must still be signed with `codesign --sign -` on a Mac before it runs)
import { bundleForSea } from './sea-bundle.mjs';
import { writeArchive } from './release-archive.mjs';
import { COMPLETION_HELPER, buildDefines } from './build-options.mjs';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SENTINEL_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

const { values: opt } = parseArgs({
  options: {
    entry: { type: 'string' },
    target: { type: 'string' },
    base: { type: 'string' },
    'blob-node': { type: 'string' },
    out: { type: 'string' },
    work: { type: 'string' },
    archive: { type: 'string' },
    version: { type: 'string' },
    'no-strip': { type: 'boolean', default: false },
    'no-snapshot': { type: 'boolean', default: false },
    'allow-unsigned': { type: 'boolean', default: false },
  },
  strict: true,
});

function fail(msg) {
  console.error(`build-binary: ${msg}`);
  process.exit(1);
}
function log(msg) {
  console.error(`build-binary: ${msg}`);
}
function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], ...opts });
  if (r.error) fail(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) fail(`${cmd} ${args.join(' ')} exited ${r.status}`);
}

const host = `${process.platform}-${process.arch}`;
const target = opt.target ?? host;
const [os, arch] = target.split('-');
if (!['linux', 'darwin', 'win32'].includes(os) || !['x64', 'arm64'].includes(arch)) {
  fail(`--target must be linux|darwin|win32-x64|arm64, got "${target}"`);
}
const entry = resolve(root, opt.entry ?? 'plugin/main.ts');
if (!existsSync(entry)) fail(`no entry point at ${entry}`);
const out = resolve(root, opt.out ?? `dist/kubectl-crate_decommission${os === 'win32' ? '.exe' : ''}`);
const base = resolve(
  root,
  opt.base ?? (target === host ? 'node_modules/node/bin/node' : fail('--base is required when cross-building')),
);
if (!existsSync(base)) fail(`no node binary at ${base}`);
const blobNode = resolve(
  root,
  opt['blob-node'] ?? (target === host ? base : fail('--blob-node is required when cross-building')),
);
const work = resolve(root, opt.work ?? join('dist', 'lib', 'sea', target));
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
mkdirSync(dirname(out), { recursive: true });

// 1. The code (scripts/sea-bundle.mjs): esbuild splits the plugin into chunks as the npm build does, each becomes
//    CommonJS; the SEA main holds the entry and the chunks it imports statically (only node: built-ins stay
//    require()s), the chunks reached only through import() (client-node, undici, listr2, prom-client, the engine)
//    are SEA assets, compiled on first use. plugin/main.ts has no top-level await for this.
const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
const bundled = await bundleForSea({
  entry,
  work,
  esbuildOptions: {
    minify: true,
    keepNames: true,
    legalComments: 'none',
    logLevel: 'warning',
    // import.meta.url and Intl.Segmenter: see scripts/sea-shims.mjs (a fixed URL; a segmenter a snapshot can hold).
    define: { ...buildDefines(root), 'import.meta.url': '__seaMetaUrl', 'Intl.Segmenter': '__SeaSegmenter' },
    inject: [join(root, 'scripts', 'sea-shims.mjs')],
    // The Temporal SDK (worker: a native core bridge, webpack) cannot live in a SEA: its imports become a module that
    // throws ERR_MODULE_NOT_FOUND when `worker` or `rollout --temporal` loads it; they say so and point to the npm
    // install (docs/temporal.md). Nothing else loads it.
    plugins: [
      {
        name: 'temporal-absent',
        setup(b) {
          b.onResolve({ filter: /^@temporalio\// }, (a) => ({ path: a.path, namespace: 'temporal-absent' }));
          b.onLoad({ filter: /.*/, namespace: 'temporal-absent' }, (a) => ({
            contents: `const e = new Error("Cannot find package '${a.path}' (not in the single binary)"); e.code = 'ERR_MODULE_NOT_FOUND'; throw e;`,
            loader: 'js',
          }));
        },
      },
      {
        // zod re-exports all its ~50 message locales (`z.locales`, `z.core.locales`), which a namespace import keeps
        // in the bundle: 267 KB, 30% of the main script's source, in the snapshot every start deserializes. The
        // plugin never uses them (English, zod's default, is imported by zod itself), so `locales` holds only `en`.
        name: 'zod-locales-en-only',
        setup(b) {
          b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (a) =>
            /[\\/]zod[\\/]v4[\\/](core|classic)[\\/]/.test(a.importer)
              ? { path: join(dirname(a.importer), '..', 'locales', 'en.js'), namespace: 'zod-locales' }
              : undefined,
          );
          b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (a) => ({
            contents: `export { default as en } from ${JSON.stringify(a.path)};`,
            loader: 'js',
            resolveDir: dirname(a.path),
          }));
        },
      },
    ],
  },
}).catch((e) => fail(`esbuild: ${e.message}`));
const bundle = bundled.main;
log(
  `bundled ${entry.slice(root.length + 1)}: SEA main ${(bundled.eagerBytes / 1e6).toFixed(2)} MB (in the snapshot), ` +
    `${Object.keys(bundled.assets).length} lazily loaded chunks ${(bundled.lazyBytes / 1e6).toFixed(2)} MB (SEA assets)`,
);
// ASCII only: V8 holds a script's source as Latin-1 when it can and as UTF-16 otherwise, so ONE other character
// (esbuild escapes strings but not regular expression literals) doubles the source kept in the startup snapshot,
// which every start deserializes (measured: blob 17.3 -> 13.6 MB, --help about 10 ms of CPU), or a chunk's memory.
for (const [what, file] of [['the SEA main', bundle], ...Object.entries(bundled.assets)]) {
  const code = readFileSync(file, 'utf8');
  // eslint-disable-next-line no-control-regex -- the ASCII range starts at NUL on purpose
  const at = code.search(/[^\x00-\x7f]/);
  if (at >= 0) {
    fail(
      `${what} holds a non-ASCII character at offset ${at}: ...${code.slice(Math.max(0, at - 60), at + 20)}... ` +
        '(write it as a \\u escape in the source)',
    );
  }
}

// 2. The blob, with a V8 startup snapshot (`useSnapshot`) when the target is this machine: the bundle runs once
//    now - every statically imported module evaluated, the command tree recorded, `--help` and an offline `plan -f`
//    warmed up (plugin/main.ts) - and the binary starts from that heap: little to parse or compile at start-up and
//    nothing written to $TMPDIR. A snapshot only runs on the platform, architecture and exact Node build that wrote
//    it, so a cross build (another --target) gets the plain CommonJS main (no snapshot: slower start, same
//    behaviour). --no-snapshot does the same here.
const seaConfig = join(work, 'sea-config.json');
const blob = join(work, 'sea-prep.blob');
const baseVersion = target === host ? execFileSync(base, ['--version'], { encoding: 'utf8' }).trim() : null;
const blobVersion = execFileSync(blobNode, ['--version'], { encoding: 'utf8' }).trim();
if (baseVersion && baseVersion !== blobVersion)
  fail(`--blob-node is ${blobVersion} but --base is ${baseVersion}: they must match`);
const snapshot = !opt['no-snapshot'] && target === host && baseVersion === blobVersion;
writeFileSync(
  seaConfig,
  JSON.stringify(
    {
      main: bundle,
      assets: bundled.assets,
      output: blob,
      disableExperimentalSEAWarning: true,
      useSnapshot: snapshot,
      useCodeCache: false,
      // A kubectl plugin must not change with the user's Node settings: NODE_OPTIONS is ignored
      // (e.g. a global `--import tsx` would otherwise break it). NODE_EXTRA_CA_CERTS still works.
      execArgv: [],
      execArgvExtension: 'none',
    },
    null,
    2,
  ),
);
run(blobNode, ['--experimental-sea-config', seaConfig], { cwd: work });
log(
  `blob: ${(statSync(blob).size / 1e6).toFixed(1)} MB, ${snapshot ? 'startup snapshot' : 'CommonJS main without snapshot (cross build or --no-snapshot)'}`,
);

// 3. A copy of the node binary, without its signature (macOS) / symbols (ELF), then the injection.
rmSync(out, { force: true });
copyFileSync(base, out);
chmodSync(out, 0o755);
const onMac = process.platform === 'darwin';
if (os === 'darwin') {
  if (onMac) run('codesign', ['--remove-signature', out]);
  else if (!opt['allow-unsigned'])
    fail('darwin binaries must be signed on macOS (or pass --allow-unsigned and sign them there)');
}
if (os === 'win32') {
  // Injection invalidates node.exe's Authenticode signature; drop it rather than ship a broken one.
  if (spawnSync('osslsigncode', ['--version']).error === undefined) {
    const unsigned = `${out}.unsigned`;
    run('osslsigncode', ['remove-signature', '-in', out, '-out', unsigned], { stdio: ['ignore', 'ignore', 'inherit'] });
    rmSync(out, { force: true });
    copyFileSync(unsigned, out);
    rmSync(unsigned, { force: true });
  } else {
    log('note: osslsigncode not found, node.exe keeps its (now invalid) signature; postject will warn about it');
  }
}
if (os === 'linux' && !opt['no-strip']) {
  // The host's strip only knows the host's ELF machine; a cross strip may be installed.
  const cross = `${arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu-strip`;
  const tool = [...(target === host ? ['strip'] : []), cross].find((t) => spawnSync(t, ['--version']).status === 0);
  if (tool) run(tool, ['--strip-all', out]);
  else log(`note: no strip for ${target} here (${cross}); the binary keeps its symbols`);
}
const postject = join(root, 'node_modules', 'postject', 'dist', 'cli.js');
const postjectArgs = [postject, out, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SENTINEL_FUSE];
if (os === 'darwin') postjectArgs.push('--macho-segment-name', 'NODE_SEA');
{
  // postject (LIEF) warns about every unnamed ELF note section; keep its other output.
  const r = spawnSync(process.execPath, postjectArgs, { encoding: 'utf8' });
  const noise = /Can't find string offset for section name|^\s*$/;
  const text = `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n').filter((l) => !noise.test(l));
  if (r.status !== 0) fail(`postject exited ${r.status}:\n${text.join('\n')}`);
  if (text.some((l) => !/Injection done|Start injection|successfully/i.test(l))) console.error(text.join('\n'));
}
if (os === 'darwin' && onMac) run('codesign', ['--sign', '-', out]);
log(
  `${out.startsWith(root + '/') ? out.slice(root.length + 1) : out}: ${(statSync(out).size / 1e6).toFixed(1)} MB, ${target}, node ${blobVersion}`,
);
if (os !== 'win32') {
  // What `kubectl crate-decommission completion` prints (plugin/commands/completion.ts COMPLETION_SCRIPT; a unit
  // test keeps the two equal). kubectl >= 1.26 runs it to complete the plugin's arguments.
  const helper = join(dirname(out), 'kubectl_complete-crate_decommission');
  writeFileSync(helper, COMPLETION_HELPER, { mode: 0o755 });
  chmodSync(helper, 0o755);
}

// 4. The release archive (optional): binary + LICENSE, deterministic, named the way krew/ expects.
if (opt.archive) {
  const tag = opt.version ?? `v${version}`;
  if (!/^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(tag)) fail(`--version must look like v1.2.3, got "${tag}"`);
  const krewOs = { linux: 'linux', darwin: 'darwin', win32: 'windows' }[os];
  const krewArch = { x64: 'amd64', arm64: 'arm64' }[arch];
  const exe = `kubectl-crate_decommission${os === 'win32' ? '.exe' : ''}`;
  const name = `kubectl-crate_decommission_${tag}_${krewOs}_${krewArch}.${os === 'win32' ? 'zip' : 'tar.gz'}`;
  const dest = resolve(root, opt.archive, name);
  mkdirSync(dirname(dest), { recursive: true });
  writeArchive(dest, [
    { name: exe, path: out, mode: 0o755 },
    { name: 'LICENSE', path: join(root, 'LICENSE'), mode: 0o644 },
  ]);
  log(
    `${dest.startsWith(root + '/') ? dest.slice(root.length + 1) : dest}: ${(statSync(dest).size / 1e6).toFixed(1)} MB`,
  );
}
