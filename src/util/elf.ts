// Reading just enough of an ELF header to tell a binary's machine type and whether it
// needs a dynamic loader (glibc's or musl's). Pure: bytes in, facts out.

export interface ElfFacts {
  machine: 'x86-64' | 'AArch64' | string;
  /** The PT_INTERP path, e.g. /lib64/ld-linux-x86-64.so.2; undefined for static binaries. */
  interpreter?: string;
}

/** Returns undefined when the bytes are not an ELF file. */
export function readElf(buf: Buffer): ElfFacts | undefined {
  if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46) return undefined;
  const is64 = buf[4] === 2;
  const le = buf[5] === 1;
  const u16 = (o: number) => (le ? buf.readUInt16LE(o) : buf.readUInt16BE(o));
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const u64 = (o: number) => Number(le ? buf.readBigUInt64LE(o) : buf.readBigUInt64BE(o));
  const machineCode = u16(18);
  const machine =
    machineCode === 0x3e ? 'x86-64' : machineCode === 0xb7 ? 'AArch64' : `machine 0x${machineCode.toString(16)}`;
  const phoff = is64 ? u64(32) : u32(28);
  const phentsize = u16(is64 ? 54 : 42);
  const phnum = u16(is64 ? 56 : 44);
  let interpreter: string | undefined;
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (ph + phentsize > buf.length) break;
    if (u32(ph) !== 3) continue; // PT_INTERP
    const offset = is64 ? u64(ph + 8) : u32(ph + 4);
    const size = is64 ? u64(ph + 32) : u32(ph + 16);
    if (offset + size <= buf.length)
      interpreter = buf
        .subarray(offset, offset + size)
        .toString('latin1')
        .replace(/\0+$/, '');
    break;
  }
  return { machine, interpreter };
}

export function isGlibcLoader(interpreter: string | undefined): boolean {
  return interpreter !== undefined && /ld-linux/.test(interpreter);
}

export function elfMachineFor(arch: 'x86_64' | 'arm64'): string {
  return arch === 'arm64' ? 'AArch64' : 'x86-64';
}
