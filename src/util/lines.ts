// The one line splitter: build streams, container output and emulator logs all arrive in
// chunks that cut lines (and UTF-8 characters) anywhere. A last line without a newline is
// delivered when the stream ends, never lost or glued to the next writer's line.
import { StringDecoder } from 'node:string_decoder';
import { Writable } from 'node:stream';

export class LineSplitter {
  private buffer = '';
  private readonly decoder = new StringDecoder('utf8');

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Buffer | string): void {
    this.buffer += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    let nl = this.buffer.indexOf('\n');
    while (nl >= 0) {
      this.onLine(this.buffer.slice(0, nl).replace(/\r$/, ''));
      this.buffer = this.buffer.slice(nl + 1);
      nl = this.buffer.indexOf('\n');
    }
  }

  /** Delivers what is left: a final line that had no newline. */
  end(): void {
    this.buffer += this.decoder.end();
    if (this.buffer) this.onLine(this.buffer.replace(/\r$/, ''));
    this.buffer = '';
  }
}

/** A writable stream that calls back once per line, and for the unterminated last line when it finishes. */
export function lineWriter(onLine: (line: string) => void): Writable {
  const splitter = new LineSplitter(onLine);
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      splitter.push(chunk);
      done();
    },
    final(done) {
      splitter.end();
      done();
    },
  });
}
