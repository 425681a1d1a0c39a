// Reading a file or stdin the user named, with a cap: "/dev/zero", a FIFO that never ends
// or a huge file must fail with a clear error, not exhaust memory or hang.
import { closeSync, openSync, readSync } from 'node:fs';

/** The text of `file`, or `undefined` when it holds more than `max` bytes. Throws fs errors as they are. */
export function readFileCapped(file: string, max: number): string | undefined {
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
    return Buffer.concat(chunks).toString('utf8');
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
