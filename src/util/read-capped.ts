// Reading a file or stdin the user named, with a cap: "/dev/zero", a FIFO that never ends
// or a huge file must fail with a clear error, not exhaust memory or hang.
import { closeSync, constants, promises as fs, openSync, readSync, type Stats } from 'node:fs';

/** The text of `file`, or `undefined` when it holds more than `max` bytes. Throws fs errors as they are. */
export function readFileCapped(file: string, max: number): string | undefined {
  return readFileBytesCapped(file, max)?.toString('utf8');
}

/** The bytes of `file`, or `undefined` when it holds more than `max` bytes. Throws fs errors as they are. */
export function readFileBytesCapped(file: string, max: number): Buffer | undefined {
  const fd = openSync(file, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.alloc(Math.min(64 * 1024, max + 1 - total));
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      chunks.push(buf.subarray(0, n));
      total += n;
      if (total > max) return undefined;
    }
    return Buffer.concat(chunks);
  } finally {
    closeSync(fd);
  }
}

/** A stream's bytes, or `undefined` as soon as they pass `max` (the rest is not read). */
export async function readStreamCapped(
  stream: AsyncIterable<Uint8Array | string>,
  max: number,
): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const c of stream) {
    const chunk = typeof c === 'string' ? Buffer.from(c) : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
    total += chunk.length;
    if (total > max) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export type RegularFileRead =
  | { kind: 'missing' }
  | { kind: 'not-regular'; what: string }
  | { kind: 'too-large' }
  | { kind: 'text'; text: string };

/**
 * A project file's text, read only when it is a regular file of at most `max` bytes: a FIFO
 * (opened without blocking, so its absent writer cannot hang us), a device such as /dev/zero
 * or a directory is named, not read. Other fs errors are thrown as they are.
 */
export async function readRegularFileCapped(file: string, max: number): Promise<RegularFileRead> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    throw err;
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) return { kind: 'not-regular', what: fileKind(st) };
    if (st.size > max) return { kind: 'too-large' };
    // Read up to one byte past the cap: a file that grew since the stat is still refused.
    const buf = Buffer.alloc(max + 1);
    let total = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, total, buf.length - total, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > max) return { kind: 'too-large' };
    }
    return { kind: 'text', text: buf.subarray(0, total).toString('utf8') };
  } finally {
    await handle.close();
  }
}

function fileKind(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}
