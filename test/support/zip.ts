// Test helper: writes zip archives byte by byte (stored, no compression), so tests can make
// exactly the entries they need, unsafe ones included: "..", absolute paths, links, devices.
import { crc32 } from 'node:zlib';

export interface ZipEntry {
  name: string;
  data?: Buffer | string;
  /** Unix mode including the file type bits; default 0o100644 (or 0o040755 for names ending in /). */
  mode?: number;
}

export function makeZip(entries: ZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const data = Buffer.isBuffer(e.data) ? e.data : Buffer.from(e.data ?? '', 'utf8');
    const mode = e.mode ?? (e.name.endsWith('/') ? 0o040755 : 0o100644);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(0, 8); // stored
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, data);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by Unix
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(0, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE((mode << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += 30 + name.length + data.length;
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

/** A minimal 64-bit little-endian ELF executable header, optionally with a PT_INTERP. */
export function fakeElf(machine: 'x86-64' | 'AArch64', interpreter?: string): Buffer {
  const interp = interpreter ? Buffer.from(interpreter + '\0', 'latin1') : Buffer.alloc(0);
  const buf = Buffer.alloc(64 + 56 + interp.length + 64);
  buf.writeUInt32BE(0x7f454c46, 0);
  buf[4] = 2; // 64-bit
  buf[5] = 1; // little-endian
  buf[6] = 1;
  buf.writeUInt16LE(2, 16); // ET_EXEC
  buf.writeUInt16LE(machine === 'AArch64' ? 0xb7 : 0x3e, 18);
  buf.writeUInt32LE(1, 20);
  buf.writeBigUInt64LE(64n, 32); // e_phoff
  buf.writeUInt16LE(64, 52); // e_ehsize
  buf.writeUInt16LE(56, 54); // e_phentsize
  buf.writeUInt16LE(interpreter ? 1 : 0, 56); // e_phnum
  if (interpreter) {
    buf.writeUInt32LE(3, 64); // PT_INTERP
    buf.writeBigUInt64LE(120n, 64 + 8); // p_offset
    buf.writeBigUInt64LE(BigInt(interp.length), 64 + 32); // p_filesz
    interp.copy(buf, 120);
  }
  return buf;
}
