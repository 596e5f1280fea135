// npm run release:krew -- --archives DIR [--version vX.Y.Z] [--base-url URL] [--strict] [--out FILE] [--update-template]
// Fills in krew/crate-decommission.yaml (the template) for a release: for each platform, the archive
// kubectl-crate_decommission_VERSION_OS_ARCH.{tar.gz,zip} in DIR gives sha256 and uri; the archive
// must hold the platform's `files` (binary + LICENSE). Writes DIR/crate-decommission.yaml by default.
//   --strict           every platform of the template must have its archive (the release workflow)
//                      (default: platforms without an archive are left out, with a warning)
//   --update-template  also write the filled manifest back to krew/crate-decommission.yaml
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gunzipSync, inflateRawSync } from 'node:zlib';
import YAML from 'yaml';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const { values: opt } = parseArgs({
  options: {
    archives: { type: 'string' },
    version: { type: 'string' },
    'base-url': { type: 'string' },
    template: { type: 'string', default: join(root, 'krew', 'crate-decommission.yaml') },
    out: { type: 'string' },
    strict: { type: 'boolean', default: false },
    'update-template': { type: 'boolean', default: false },
  },
  strict: true,
});

function fail(msg) {
  console.error(`krew-manifest: ${msg}`);
  process.exit(1);
}
if (!opt.archives) fail('--archives DIR is required (the directory holding the release archives)');
const dir = resolve(opt.archives);
const version = opt.version ?? `v${pkg.version}`;
if (!/^v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version)) fail(`--version must be v-prefixed semver, got "${version}"`);
const homepage = 'https://github.com/crate/crate-decommission';
const baseUrl = (opt['base-url'] ?? `${homepage}/releases/download/${version}`).replace(/\/+$/, '');

/** Names of the regular files in a .tar.gz (ustar/GNU) or .zip archive. */
export function archiveEntries(buf, name) {
  const out = [];
  if (name.endsWith('.zip')) {
    const eocd = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    if (eocd < 0) throw new Error(`${name}: not a zip file`);
    const count = buf.readUInt16LE(eocd + 10);
    let p = buf.readUInt32LE(eocd + 16);
    for (let i = 0; i < count; i++) {
      if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error(`${name}: bad central directory`);
      const method = buf.readUInt16LE(p + 10);
      const packed = buf.readUInt32LE(p + 20);
      const nameLen = buf.readUInt16LE(p + 28);
      const extraLen = buf.readUInt16LE(p + 30);
      const commentLen = buf.readUInt16LE(p + 32);
      const local = buf.readUInt32LE(p + 42);
      const entry = buf.subarray(p + 46, p + 46 + nameLen).toString('utf8');
      // Check the data really inflates (a truncated upload would not).
      const lNameLen = buf.readUInt16LE(local + 26);
      const lExtraLen = buf.readUInt16LE(local + 28);
      const data = buf.subarray(local + 30 + lNameLen + lExtraLen, local + 30 + lNameLen + lExtraLen + packed);
      if (method === 8) inflateRawSync(data);
      if (!entry.endsWith('/')) out.push(entry);
      p += 46 + nameLen + extraLen + commentLen;
    }
    return out;
  }
  const tar = gunzipSync(buf);
  let p = 0;
  while (p + 512 <= tar.length) {
    const h = tar.subarray(p, p + 512);
    if (h.every((b) => b === 0)) break;
    const field = (o, n) =>
      h
        .subarray(o, o + n)
        .toString('utf8')
        .replace(/\0.*$/s, '');
    const prefix = field(345, 155);
    const entry = (prefix ? `${prefix}/` : '') + field(0, 100);
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1) || '0';
    if (type === '0') out.push(entry.replace(/^\.\//, ''));
    p += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

const krewOs = { linux: 'linux', darwin: 'darwin', windows: 'windows' };
const template = YAML.parseDocument(readFileSync(opt.template, 'utf8'));
const manifest = template.toJS();
if (manifest?.apiVersion !== 'krew.googlecontainertools.github.com/v1alpha2' || manifest?.kind !== 'Plugin') {
  fail(`${opt.template} is not a krew Plugin manifest`);
}
const platforms = [];
const missing = [];
for (const p of manifest.spec.platforms) {
  const { os, arch } = p.selector.matchLabels;
  if (!krewOs[os]) fail(`unknown os "${os}" in the template`);
  const ext = os === 'windows' ? 'zip' : 'tar.gz';
  const file = `kubectl-crate_decommission_${version}_${os}_${arch}.${ext}`;
  const path = join(dir, file);
  if (!existsSync(path)) {
    missing.push(file);
    continue;
  }
  const buf = readFileSync(path);
  let entries;
  try {
    entries = archiveEntries(buf, file);
  } catch (e) {
    fail(`${file}: ${e.message}`);
  }
  for (const f of p.files) {
    if (!entries.includes(f.from)) fail(`${file} lacks ${f.from} (it holds: ${entries.join(', ')})`);
  }
  if (!entries.includes('LICENSE')) fail(`${file} lacks the LICENSE`);
  if (!entries.includes(p.bin)) fail(`${file} lacks the bin ${p.bin}`);
  platforms.push({ ...p, uri: `${baseUrl}/${file}`, sha256: createHash('sha256').update(buf).digest('hex') });
}
if (missing.length > 0) {
  if (opt.strict) fail(`missing archives in ${dir}:\n  ${missing.join('\n  ')}`);
  console.error(`krew-manifest: left out (no archive): ${missing.join(', ')}`);
}
if (platforms.length === 0) fail(`no archive for version ${version} in ${dir}`);

// Keep the template's comments and layout; replace only version, uri and sha256 (and drop missing platforms).
template.setIn(['spec', 'version'], version);
const seq = template.getIn(['spec', 'platforms']);
seq.items = seq.items.filter((item) => {
  const labels = item.toJSON().selector.matchLabels;
  const filled = platforms.find(
    (p) => p.selector.matchLabels.os === labels.os && p.selector.matchLabels.arch === labels.arch,
  );
  if (!filled) return false;
  item.set('uri', filled.uri);
  item.set('sha256', filled.sha256);
  return true;
});
template.commentBefore = ` krew plugin manifest of kubectl crate-decommission ${version}, generated by scripts/krew-manifest.mjs\n from krew/crate-decommission.yaml and the release archives.`;
const text = template.toString({ lineWidth: 0 });
const out = resolve(opt.out ?? join(dir, 'crate-decommission.yaml'));
writeFileSync(out, text);
if (opt['update-template']) writeFileSync(opt.template, text);
console.error(
  `krew-manifest: wrote ${out} (${version}, ${platforms.length} platform${platforms.length === 1 ? '' : 's'})`,
);
for (const p of platforms)
  console.error(`  ${p.selector.matchLabels.os}/${p.selector.matchLabels.arch}  ${p.sha256}  ${p.uri}`);
