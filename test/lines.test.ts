// The one line splitter every stream reader uses (build streams, container output, logs).
import { describe, expect, it } from 'vitest';
import { LineSplitter, lineWriter, MAX_LINE_BYTES } from '../src/util/lines.js';
import { BuildStreamParser } from '../src/docker/build-stream.js';

function split(chunks: Array<string | Buffer>, end = true): string[] {
  const lines: string[] = [];
  const s = new LineSplitter((l) => lines.push(l));
  chunks.forEach((c) => s.push(c));
  if (end) s.end();
  return lines;
}

describe('line splitter', () => {
  it('ends CRLF lines without their CR', () => {
    expect(split(['one\r\ntwo\r', '\nthree\r\n'])).toEqual(['one', 'two', 'three']);
  });

  it('keeps a UTF-8 character cut between chunks whole', () => {
    const bytes = Buffer.from('café ☕\n', 'utf8');
    const cut = bytes.indexOf(0xe2) + 1; // inside the three-byte cup
    expect(split([bytes.subarray(0, cut), bytes.subarray(cut)])).toEqual(['café ☕']);
  });

  it('delivers a last line without a newline at the end, and only then', () => {
    expect(split(['a\nlast line without newline'], false)).toEqual(['a']);
    expect(split(['a\nlast line without newline'])).toEqual(['a', 'last line without newline']);
  });

  it('as a writable: the unterminated last line arrives when the writer is ended', async () => {
    const lines: string[] = [];
    const w = lineWriter((l) => lines.push(l));
    w.write('first\nsec');
    w.write('ond');
    await new Promise<void>((resolve) => w.end(resolve));
    expect(lines).toEqual(['first', 'second']);
  });

  it('cuts output without newlines into lines of at most 256 KB, losing nothing', () => {
    // 8 MB with no newline, in 64 KB chunks, as a flooding function writes it.
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const lines: string[] = [];
    const s = new LineSplitter((l) => lines.push(l));
    for (let i = 0; i < 128; i++) s.push(chunk);
    // Whole lines are out before the stream ends: nothing waits in memory for a newline.
    expect(lines.length).toBeGreaterThanOrEqual((8 * 1024 * 1024) / MAX_LINE_BYTES - 1);
    s.push('tail\n');
    s.end();
    expect(lines.every((l) => Buffer.byteLength(l) <= MAX_LINE_BYTES)).toBe(true);
    expect(lines.join('')).toBe('x'.repeat(8 * 1024 * 1024) + 'tail');
  });

  it('never cuts a UTF-8 character in two when it cuts a long line', () => {
    const text = '☕'.repeat(100_000); // 3 bytes each: 300,000 bytes, past the maximum mid-character
    const lines = split([text]);
    expect(lines.length).toBe(2);
    expect(lines.join('')).toBe(text);
    expect(lines.some((l) => l.includes('\ufffd'))).toBe(false);
  });

  it('flush delivers a line not ended yet on its own, and the next output starts a new line', () => {
    const lines: string[] = [];
    const s = new LineSplitter((l) => lines.push(l));
    s.push('first invoke, no newline');
    s.flush();
    s.push('second invoke\n');
    expect(lines).toEqual(['first invoke, no newline', 'second invoke']);
    const w = lineWriter((l) => lines.push(l));
    w.write('partial');
    w.flush();
    expect(lines.at(-1)).toBe('partial');
  });

  it('reads a build stream whose lines end in CRLF', () => {
    const parser = new BuildStreamParser();
    const text =
      [{ stream: 'Step 1/1 : FROM scratch\n' }, { errorDetail: { message: 'boom' } }]
        .map((l) => JSON.stringify(l))
        .join('\r\n') + '\r\n';
    parser.push(text);
    const outcome = parser.end();
    expect(outcome.error).toBe('boom');
    expect(outcome.steps.map((s) => s.name)).toEqual(['[1/1] FROM scratch']);
  });
});
