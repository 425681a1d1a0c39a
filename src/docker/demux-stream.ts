// Splits the engine's multiplexed attach/logs stream (8-byte frame headers: stream type and
// length) into stdout and stderr, and ENDS both when the source ends, so a last line without
// a newline is flushed by the line splitter instead of being lost or glued to another
// process's output. (docker-modem's demuxStream never ends its destinations.)
import type { Readable, Writable } from 'node:stream';

export function demuxStream(source: NodeJS.ReadableStream | Readable, stdout: Writable, stderr: Writable): void {
  let pending: Buffer = Buffer.alloc(0);
  const ended = { done: false };
  const finish = () => {
    if (ended.done) return;
    ended.done = true;
    // A truncated frame at the end is still output the process wrote: deliver it.
    if (pending.length > 8) (pending[0] === 2 ? stderr : stdout).write(pending.subarray(8));
    stdout.end();
    if (stderr !== stdout) stderr.end();
  };
  source.on('data', (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= 8) {
      const size = pending.readUInt32BE(4);
      if (pending.length < 8 + size) break;
      const payload = pending.subarray(8, 8 + size);
      (pending[0] === 2 ? stderr : stdout).write(payload);
      pending = pending.subarray(8 + size);
    }
  });
  source.on('end', finish);
  source.on('close', finish);
  source.on('error', finish);
}
