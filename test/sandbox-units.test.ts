// Pure parts of the execution environment: trace ids from the caller's X-Amzn-Trace-Id, and
// the container's output told apart (function, extension, the runtime's exit).
import { describe, expect, it } from 'vitest';
import { parseOutputLine, traceIdFor } from '../src/emulator/sandbox.js';

describe('trace id of an invoke', () => {
  it("keeps the caller's Root, Parent and Sampled decision", () => {
    expect(traceIdFor('Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1')).toBe(
      'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
    );
    expect(traceIdFor('Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1')).toMatch(
      /^Root=1-5759e988-bd862e3fe1be46a994272793;Parent=[0-9a-f]{16};Sampled=1$/,
    );
  });

  it('makes an unsampled one when the caller sent none', () => {
    expect(traceIdFor()).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$/);
  });
});

describe('container output lines', () => {
  const M = '\u001e';
  it('tells function lines, extension lines and the runtime exit apart', () => {
    expect(parseOutputLine('hello')).toEqual({ lines: [{ kind: 'function', text: 'hello' }] });
    expect(parseOutputLine(`${M}tele${M}[tele] ready`)).toEqual({
      lines: [{ kind: 'extension', text: '[tele] ready' }],
    });
    expect(parseOutputLine(`${M}${M}runtime-exit 3`)).toEqual({ lines: [], runtimeExit: 3 });
  });

  it("splits the runtime's unterminated last line off the mark that follows it", () => {
    expect(parseOutputLine(`last line without newline${M}tele${M}tele: SHUTDOWN spindown`)).toEqual({
      lines: [
        { kind: 'function', text: 'last line without newline' },
        { kind: 'extension', text: 'tele: SHUTDOWN spindown' },
      ],
    });
    expect(parseOutputLine(`partial${M}${M}runtime-exit 137`)).toEqual({
      lines: [{ kind: 'function', text: 'partial' }],
      runtimeExit: 137,
    });
  });
});
