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

/** Where runCli's output goes when not to this process's own stdout/stderr (tests). */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

/**
 * Runs the program on `argv` (node, script, args...) and resolves with its exit code; never
 * exits and never sets process.exitCode, so it can run in process (tests). With `io`, what the
 * program writes to stdout and stderr goes there until it returns.
 */
export async function runCli(argv: string[], io?: CliIo): Promise<number> {
  const restore = io ? redirectOutput(io) : () => {};
  try {
    // The completion scripts' callback: answered before commander parses anything, since the
    // words it gets are a half-typed command line.
    if (argv[2] === '__complete') {
      await (await import('./completion-command.js')).runComplete(buildProgram(), argv.slice(3));
      return 0;
    }
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (err) {
    return reportError(err);
  } finally {
    restore();
  }
}

/** The launcher's entry: the exit code is the process's. */
export async function main(argv: string[]): Promise<void> {
  process.exitCode = await runCli(argv);
}

function redirectOutput(io: CliIo): () => void {
  const out = process.stdout.write;
  const err = process.stderr.write;
  const to = (sink: (text: string) => void) =>
    ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      sink(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
      const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      cb?.();
      return true;
    }) as typeof process.stdout.write;
  process.stdout.write = to(io.stdout);
  process.stderr.write = to(io.stderr);
  return () => {
    process.stdout.write = out;
    process.stderr.write = err;
  };
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
