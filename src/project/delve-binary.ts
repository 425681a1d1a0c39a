// Checks `--delve-from <path>` before anything is built: delve runs inside the function's
// image, on any base, so it must be a static linux executable of the image's architecture.
// Debian's `delve` package is linked against glibc and would fail to start on alpine or a
// busybox stand-in with a bare "not found", long after the build.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Arch } from '../config/constants.js';
import { LambdaImageError } from '../errors.js';
import { elfMachineFor, isGlibcLoader, readElf } from '../util/elf.js';

const HINT =
  "give a static delve (CGO_ENABLED=0 go build ./cmd/dlv from delve's sources), or leave --delve-from out to build the pinned release";

/** Throws INVALID_INPUT / PLATFORM_MISMATCH with the reason when `file` cannot serve as delve in an `arch` image. */
export async function checkDelveBinary(dir: string, file: string, arch: Arch): Promise<string> {
  const full = path.resolve(dir, file);
  const head = await readHead(full);
  if (!head) throw new LambdaImageError('INVALID_INPUT', `--delve-from ${file}: no such file`, { hint: HINT });
  const facts = readElf(head);
  if (!facts || head.subarray(0, 2).toString('latin1') === '#!')
    throw new LambdaImageError('INVALID_INPUT', `--delve-from ${file} is not a Linux executable (ELF)`, { hint: HINT });
  const wanted = elfMachineFor(arch);
  if (facts.machine !== wanted || head[4] !== 2)
    throw new LambdaImageError(
      'PLATFORM_MISMATCH',
      `--delve-from ${file} is built for ${facts.machine}, but the image is ${arch} (${wanted})`,
      { hint: `give a delve built with GOARCH=${arch === 'arm64' ? 'arm64' : 'amd64'}` },
    );
  if (facts.interpreter !== undefined)
    throw new LambdaImageError(
      'INVALID_INPUT',
      `--delve-from ${file} is dynamically linked (${facts.interpreter})${isGlibcLoader(facts.interpreter) ? ", as Debian's delve package is: it runs only where the base has glibc's loader, not on alpine or a stand-in" : ''}`,
      { hint: HINT },
    );
  return full;
}

async function readHead(file: string): Promise<Buffer | undefined> {
  const handle = await fs.open(file, 'r').catch(() => undefined);
  if (!handle) return undefined;
  try {
    const buf = Buffer.alloc(4096);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
