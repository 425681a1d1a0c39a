// Keeps streaming large files from inflating the process's memory. Each chunk a stream reads
// is a new Buffer outside the JavaScript heap, and V8 collects such garbage only once about
// 64 MB of it has piled up: streaming a 50 MB layer left the CLI's peak memory about 50 MB
// above what it uses. A young-generation collection (about a millisecond) every 4 MB moved
// frees those chunks as they are done with.
import v8 from 'node:v8';
import vm from 'node:vm';

type Collect = (opts?: { type: 'minor' | 'major'; execution?: 'sync' }) => void;
let collect: Collect | null | undefined;

function collector(): Collect | null {
  if (collect !== undefined) return collect;
  try {
    // The collector is exposed to contexts made after the flag is set (this one, not the main one).
    v8.setFlagsFromString('--expose-gc');
    collect = vm.runInNewContext('gc') as Collect;
  } catch {
    collect = null; // a runtime without it: memory is then what V8 makes of it
  }
  return collect;
}

const EVERY_BYTES = 4 * 1024 * 1024;

/** Counts bytes moved by a stream and frees its spent chunks every 4 MB. */
export function chunkReleaser(): (bytes: number) => void {
  let since = 0;
  return (bytes) => {
    since += bytes;
    if (since < EVERY_BYTES) return;
    since = 0;
    collector()?.({ type: 'minor' });
  };
}
