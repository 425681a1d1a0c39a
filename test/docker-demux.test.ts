// The engine's multiplexed output stream split into stdout and stderr lines: a last line
// without a newline is delivered when the stream ends (issue 8's bug: it was lost, or glued
// to the next process's line), and frames cut anywhere are reassembled.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { demuxStream } from '../src/docker/demux-stream.js';
import { lineWriter } from '../src/util/lines.js';

const frame = (type: 1 | 2, text: string) => {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = type;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
};

function split(): { source: PassThrough; lines: string[]; done: Promise<void> } {
  const source = new PassThrough();
  const lines: string[] = [];
  const out = lineWriter((l) => lines.push(`out:${l}`));
  const err = lineWriter((l) => lines.push(`err:${l}`));
  const done = Promise.all([new Promise((r) => out.on('finish', r)), new Promise((r) => err.on('finish', r))]).then(
    () => undefined,
  );
  demuxStream(source, out, err);
  return { source, lines, done };
}

describe('demuxStream', () => {
  it('ends both destinations when the source ends, so an unterminated last line is delivered on its own', async () => {
    const { source, lines, done } = split();
    source.write(frame(1, 'first\nlast line without newline'));
    source.write(frame(2, 'err tail'));
    source.end();
    await done;
    expect(lines).toEqual(['out:first', 'out:last line without newline', 'err:err tail']);
  });

  it('reassembles frames cut at any byte, stdout and stderr apart', async () => {
    const { source, lines, done } = split();
    const bytes = Buffer.concat([frame(1, 'a1\na'), frame(2, 'e1\n'), frame(1, '2\n')]);
    for (const b of bytes) source.write(Buffer.from([b]));
    source.end();
    await done;
    expect(lines).toEqual(['out:a1', 'err:e1', 'out:a2']);
  });

  it('a source that errors still ends its destinations', async () => {
    const { source, lines, done } = split();
    source.write(frame(1, 'partial'));
    source.destroy(new Error('connection reset'));
    await done;
    expect(lines).toEqual(['out:partial']);
  });
});
