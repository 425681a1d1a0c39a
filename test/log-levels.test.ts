// Lambda's application log-level filter for custom runtimes (AWS, "Log-level filtering"): a
// JSON line's "level" field, any case; missing or invalid levels are INFO.
import { describe, expect, it } from 'vitest';
import { applicationLevel, droppedLines, dropsLevel } from '../src/emulator/log-levels.js';

describe('application log levels', () => {
  it('reads the level of a JSON line, any case; anything else is INFO', () => {
    expect(applicationLevel('{"level":"debug","msg":"x"}')).toBe('DEBUG');
    expect(applicationLevel('  {"level":"WARN"}  ')).toBe('WARN');
    expect(applicationLevel('{"level":"Fatal"}')).toBe('FATAL');
    expect(applicationLevel('{"level":"verbose"}')).toBe('INFO'); // invalid
    expect(applicationLevel('{"log_level":"ERROR"}')).toBe('INFO'); // not the key Lambda reads
    expect(applicationLevel('{"level":3}')).toBe('INFO');
    expect(applicationLevel('{"level":"ERROR"')).toBe('INFO'); // not JSON
    expect(applicationLevel('ERROR something broke')).toBe('INFO'); // plain text
    expect(applicationLevel('null')).toBe('INFO');
  });

  it('a threshold keeps its own level and the less verbose ones', () => {
    expect(dropsLevel('INFO', 'WARN')).toBe(true);
    expect(dropsLevel('WARN', 'WARN')).toBe(false);
    expect(dropsLevel('FATAL', 'ERROR')).toBe(false);
    expect(dropsLevel('TRACE', 'TRACE')).toBe(false);
    expect(dropsLevel('TRACE', 'DEBUG')).toBe(true);
  });

  it('counts what a level would drop, by level', () => {
    const lines = ['plain text', '{"level":"debug"}', '{"level":"warn"}', '{"level":"error"}', '{"level":"nope"}'];
    expect(droppedLines(lines, 'WARN')).toEqual({ dropped: 3, byLevel: { INFO: 2, DEBUG: 1 } });
    expect(droppedLines(lines, 'TRACE')).toEqual({ dropped: 0, byLevel: {} });
    expect(droppedLines(lines, 'FATAL').dropped).toBe(5);
  });
});
