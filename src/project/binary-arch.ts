// Checks a prebuilt bootstrap binary against the image's architecture before anything is
// built: a wrong one would pass init and build and fail only when Lambda (or invoke) runs it.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Arch } from '../config/constants.js';
import { LambdaImageError } from '../errors.js';
import { elfMachineFor, readElf } from '../util/elf.js';

/** Reads the binary's ELF header; throws PLATFORM_MISMATCH when it is built for another machine. Scripts (#!) pass. */
export async function checkBinaryArch(dir: string, binary: string, arch: Arch): Promise<void> {
  const file = path.resolve(dir, binary);
  let head: Buffer;
  const handle = await fs.open(file, 'r').catch(() => undefined);
  if (!handle) return; // existence is checked (with its own message) where the path is checked
  try {
    // The program headers (for PT_INTERP) sit right after the 64-byte header in practice.
    const buf = Buffer.alloc(4096);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    head = buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
  if (head.subarray(0, 2).toString('latin1') === '#!') return;
  const facts = readElf(head);
  const wanted = elfMachineFor(arch);
  if (!facts) {
    throw new LambdaImageError('INVALID_INPUT', `binary ${binary} is neither a Linux executable (ELF) nor a script`, {
      hint:
        'build it for Linux, e.g. GOOS=linux GOARCH=' +
        (arch === 'arm64' ? 'arm64' : 'amd64') +
        ' go build -o bootstrap',
    });
  }
  const is64 = head[4] === 2;
  if (facts.machine !== wanted || !is64) {
    const other = facts.machine === 'AArch64' ? 'arm64' : facts.machine === 'x86-64' ? 'x86_64' : undefined;
    throw new LambdaImageError(
      'PLATFORM_MISMATCH',
      `binary ${binary} is built for ${facts.machine}${is64 ? '' : ' (32-bit)'}, but the image is ${arch} (${wanted})`,
      {
        hint:
          other && is64
            ? `use --arch ${other}, or rebuild the binary for ${arch} (e.g. GOARCH=${arch === 'arm64' ? 'arm64' : 'amd64'})`
            : `rebuild the binary for Linux ${arch}`,
      },
    );
  }
}
