// Deterministic release archives without external tools (same bytes on Linux, macOS and Windows
// runners): .tar.gz (ustar) and .zip (deflate). Entries are files at the archive root; mtime is
// SOURCE_DATE_EPOCH or 2000-01-01, owner 0:0.
import { readFileSync, writeFileSync } from 'node:fs';
import { crc32, deflateRawSync, gzipSync } from 'node:zlib';

/** @typedef {{ name: string, path: string, mode: number }} Entry */

const EPOCH = Number(process.env.SOURCE_DATE_EPOCH ?? 946684800);

/** @param {string} dest @param {Entry[]} entries */
export function writeArchive(dest, entries) {
  if (dest.endsWith('.tar.gz') || dest.endsWith('.tgz')) writeFileSync(dest, tarGz(entries));
  else if (dest.endsWith('.zip')) writeFileSync(dest, zip(entries));
  else throw new Error(`unknown archive type: ${dest}`);
}

function octal(n, width) {
  return `${n.toString(8).padStart(width - 1, '0')}\0`;
}

/** @param {Entry[]} entries */
export function tarGz(entries) {
  const blocks = [];
  for (const e of entries) {
    const data = readFileSync(e.path);
    if (Buffer.byteLength(e.name) > 100) throw new Error(`name too long for ustar: ${e.name}`);
    const h = Buffer.alloc(512);
    h.write(e.name, 0, 100, 'utf8');
    h.write(octal(e.mode & 0o7777, 8), 100, 'ascii');
    h.write(octal(0, 8), 108, 'ascii'); // uid
    h.write(octal(0, 8), 116, 'ascii'); // gid
    h.write(octal(data.length, 12), 124, 'ascii');
    h.write(octal(EPOCH, 12), 136, 'ascii');
    h.write('        ', 148, 'ascii'); // checksum placeholder
    h.write('0', 156, 'ascii'); // regular file
    h.write('ustar\0', 257, 'ascii');
    h.write('00', 263, 'ascii');
    h.write('root', 265, 'ascii');
    h.write('root', 297, 'ascii');
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
    blocks.push(h, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks), { level: 9 });
}

function dosDateTime(epoch) {
  const d = new Date(epoch * 1000);
  const time = (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | Math.floor(d.getUTCSeconds() / 2);
  const date = ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate();
  return { time, date };
}

/** @param {Entry[]} entries */
export function zip(entries) {
  const { time, date } = dosDateTime(EPOCH);
  const locals = [];
  const centrals = [];
  let offset = 0;
  for (const e of entries) {
    const data = readFileSync(e.path);
    const name = Buffer.from(e.name, 'utf8');
    const packed = deflateRawSync(data, { level: 9 });
    const crc = crc32(data);
    if (data.length >= 0xffffffff || packed.length >= 0xffffffff) throw new Error('zip64 not supported');
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt16LE(time, 10);
    local.writeUInt16LE(date, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by: Unix, so the mode below is honoured
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt16LE(time, 12);
    central.writeUInt16LE(date, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(packed.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(((0o100000 | (e.mode & 0o7777)) << 16) >>> 0, 38); // external attrs
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, packed);
    centrals.push(central, name);
    offset += local.length + name.length + packed.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}
