// Every command that takes --function takes it repeatably: commander keeps only the last value
// of an option declared without a collector, so `--function a --function b` silently acted on b
// alone (add-extension, extensions list/remove did). A command meant for one function refuses
// several by itself, naming them.
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../src/cli/main.js';

function commandsOf(cmd: Command, prefix = ''): Array<{ name: string; cmd: Command }> {
  return cmd.commands.flatMap((c) => {
    const name = `${prefix}${c.name()}`;
    return [{ name, cmd: c }, ...commandsOf(c, `${name} `)];
  });
}

describe('--function on every command', () => {
  it('is collected, never last-one-wins, wherever it is accepted', () => {
    const takers = commandsOf(buildProgram()).filter(({ cmd }) => cmd.options.some((o) => o.long === '--function'));
    expect(takers.map((t) => t.name).sort()).toEqual(
      [
        'add-extension',
        'build',
        'ci github',
        'deploy',
        'extensions list',
        'extensions remove',
        'init',
        'invoke',
        'push',
        'start',
      ].sort(),
    );
    for (const { name, cmd } of takers) {
      const parsed = cmd.options.find((o) => o.long === '--function')!.parseArg?.('b', ['a'] as never);
      expect([name, parsed]).toEqual([name, ['a', 'b']]);
    }
  });
});
