// The one line splitter every stream reader uses (build streams, container output, logs).
import { describe, expect, it } from 'vitest';
import { LineSplitter, lineWriter } from '../src/util/lines.js';
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
