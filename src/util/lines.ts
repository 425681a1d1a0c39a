// The one line splitter: build streams, container output and emulator logs all arrive in
// chunks that cut lines (and UTF-8 characters) anywhere. A last line without a newline is
// delivered when the stream ends (or is flushed), never lost or glued to the next writer's
// line. Memory and time stay linear: only new bytes are scanned, and a line longer than
// MAX_LINE_BYTES is cut into pieces of that size, as Lambda cuts log events.
import { Writable } from 'node:stream';

/**
 * The longest line delivered whole: 256 KB, CloudWatch Logs' maximum event size (and the
 * smallest buffer a Telemetry subscriber can ask for). Longer output arrives as several lines.
 */
export const MAX_LINE_BYTES = 256 * 1024;

const NEWLINE = 0x0a;

export class LineSplitter {
  /** The bytes of the line not ended yet (never more than maxBytes). */
  private held: Buffer[] = [];
  private heldBytes = 0;

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly maxBytes = MAX_LINE_BYTES,
  ) {}

  push(chunk: Buffer | string): void {
    let bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    for (;;) {
      const room = this.maxBytes - this.heldBytes;
      const nl = bytes.indexOf(NEWLINE);
      if (nl >= 0 && nl <= room) {
        this.hold(bytes.subarray(0, nl));
        this.deliver(true);
        bytes = bytes.subarray(nl + 1);
        continue;
      }
      if (bytes.length <= room) {
        this.hold(bytes);
        return;
      }
      // More than a line may hold, and no newline within it: cut at a character boundary.
      const cut = charBoundary(bytes, room, this.heldBytes);
      this.hold(bytes.subarray(0, cut));
      this.deliver(false);
      bytes = bytes.subarray(cut);
    }
  }

  /** Delivers a line not ended yet as a line of its own (the writer is done, for now or for good). */
  flush(): void {
    if (this.heldBytes) this.deliver(true);
  }

  /** Delivers what is left: a final line that had no newline. */
  end(): void {
    this.flush();
  }

  private hold(bytes: Buffer): void {
    if (!bytes.length) return;
    this.held.push(bytes);
    this.heldBytes += bytes.length;
  }

  private deliver(ended: boolean): void {
    let text = (this.held.length === 1 ? this.held[0]! : Buffer.concat(this.held, this.heldBytes)).toString('utf8');
    if (ended && text.endsWith('\r')) text = text.slice(0, -1);
    this.held = [];
    this.heldBytes = 0;
    this.onLine(text);
  }
}

/**
 * Where to cut `bytes` so at most `room` of them go, without splitting a UTF-8 character
 * (a character's continuation bytes are 10xxxxxx). Always cuts something when nothing is held.
 */
function charBoundary(bytes: Buffer, room: number, held: number): number {
  let cut = room;
  for (let back = 0; back < 3 && cut > 0 && (bytes[cut]! & 0xc0) === 0x80; back++) cut--;
  return cut > 0 || held > 0 ? cut : room;
}

/** A writable stream that calls back once per line, and for the unterminated last line when it finishes. */
export function lineWriter(onLine: (line: string) => void): Writable & { flush(): void } {
  const splitter = new LineSplitter(onLine);
  const writer = new Writable({
    write(chunk: Buffer, _enc, done) {
      splitter.push(chunk);
      done();
    },
    final(done) {
      splitter.end();
      done();
    },
  });
  return Object.assign(writer, { flush: () => splitter.flush() });
}
