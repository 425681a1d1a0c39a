// The CLI entry: commander wiring, lazy command loading, and the one place that turns
// errors into a message, a hint and an exit code.
import './engine-first.js'; // first: it starts the engine's answer on its way (see there)
import { createRequire } from 'node:module';
import { EXIT_INTERNAL, isLambdaImageError } from '../errors.js';
import { paint } from '../ui.js';
import { printable, printableLines } from '../util/printable.js';
import { buildProgram } from './program.js';

export { buildProgram };

// commander is CommonJS: require() loads it measurably faster than import() (start-up budget).
const { CommanderError } = createRequire(import.meta.url)('commander') as typeof import('commander');

export async function main(argv: string[]): Promise<void> {
  try {
    // The completion scripts' callback: answered before commander parses anything, since the
    // words it gets are a half-typed command line.
    if (argv[2] === '__complete')
      return await (await import('./completion-command.js')).runComplete(buildProgram(), argv.slice(3));
    await buildProgram().parseAsync(argv);
  } catch (err) {
    process.exitCode = reportError(err);
  }
}

/** Prints one clear line (and a hint) for known errors, the stack for unknown ones. */
export function reportError(err: unknown): number {
  if (err instanceof CommanderError) {
    // commander already printed its message (or the help / version text).
    return err.exitCode === 0 ? 0 : 2;
  }
  if (isLambdaImageError(err)) {
    // Messages carry untrusted words (config keys, AWS and registry answers, a function's output): escaped.
    process.stderr.write(`${paint('error:', 'red')} ${printable(err.message)}\n`);
    for (const line of err.details ?? []) process.stderr.write(`  ${printableLines(line)}\n`);
    if (err.hint) process.stderr.write(`${paint('hint:', 'dim')} ${printable(err.hint)}\n`);
    return err.exitCode;
  }
  process.stderr.write(
    `internal error (this is a bug in lambda-image; please report it):\n${(err as Error)?.stack ?? String(err)}\n`,
  );
  return EXIT_INTERNAL;
}
