// The program: commander with every command declared (commands.ts), the program's own options,
// and the hooks every command shares. Built by the CLI entry and by what reads the definitions
// (shell completion, the docs generator).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Command as CommandType } from 'commander';
import { setQuiet } from '../ui.js';
import { registerCommands } from './commands.js';

// commander is CommonJS: require() loads it measurably faster than import() (start-up budget).
const require = createRequire(import.meta.url);
const { Command } = require('commander') as typeof import('commander');

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

export function buildProgram(): CommandType {
  const program = new Command('lambda-image')
    .description('Package, build, inspect and run AWS Lambda functions as container images.')
    .version(pkg.version, '-v, --version')
    // Program options only before the command: "add-extension --version 2" is the layer's.
    .enablePositionalOptions()
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  registerCommands(program);
  program.hook('preAction', (_program, action) => setQuiet(Boolean(action.opts().quiet)));
  return program;
}
