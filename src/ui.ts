// Output discipline: results go to stdout, progress and warnings to stderr, spinners only
// on a TTY, and debug lines only when DEBUG=lambda-image:* asks for them.

import { printable, printableLines } from './util/printable.js';

export interface Progress {
  step(text: string): void;
  succeed(text: string): void;
  fail(text: string): void;
  stop(): void;
}

export interface Ui {
  out(line: string): void;
  warn(line: string): void;
  info(line: string): void;
  progress(initial: string): Promise<Progress>;
}

/** Set once by the CLI entry from the command's --quiet: every Ui made after it is quiet. */
const output = { quiet: false };
export function setQuiet(quiet: boolean): void {
  output.quiet = quiet;
}

/**
 * Colour on stderr: FORCE_COLOR forces it (0 or false turns it off), NO_COLOR (any non-empty
 * value) turns it off, TERM=dumb and a stderr that is no terminal leave it off.
 */
export function colourEnabled(env: NodeJS.ProcessEnv = process.env, isTTY = Boolean(process.stderr.isTTY)): boolean {
  const force = env.FORCE_COLOR;
  if (force === '0' || force === 'false') return false;
  if (force !== undefined) return true;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return isTTY;
}

/** Spinners only where a person watches a terminal: never in CI logs or a pipe, plain lines there. */
export function spinnersEnabled(env: NodeJS.ProcessEnv = process.env, isTTY = Boolean(process.stderr.isTTY)): boolean {
  return isTTY && !env.CI && env.TERM !== 'dumb';
}

const SGR = { red: '\u001b[31m', yellow: '\u001b[33m', dim: '\u001b[2m', reset: '\u001b[0m' };
/** A prefix such as `error:` in colour when colour is on. */
export function paint(text: string, colour: keyof typeof SGR): string {
  return colourEnabled() ? `${SGR[colour]}${text}${SGR.reset}` : text;
}

export function createUi(opts: { quiet?: boolean } = {}): Ui {
  const stderr = process.stderr;
  opts = { quiet: opts.quiet ?? output.quiet };
  return {
    out: (line) => process.stdout.write(line + '\n'),
    warn: (line) => stderr.write(`${paint('warning:', 'yellow')} ${printable(line)}\n`),
    info: (line) => {
      if (!opts.quiet) stderr.write(printableLines(line) + '\n');
    },
    async progress(initial) {
      if (opts.quiet) return silentProgress;
      if (spinnersEnabled()) {
        const { default: ora } = await import('ora');
        // One line, never wider than the terminal: a wrapped spinner line cannot be redrawn cleanly.
        const fitWidth = (t: string) => {
          const line = printable(t.replace(/\s+/g, ' '));
          const width = Math.max(20, (stderr.columns ?? 80) - 4);
          return line.length > width ? line.slice(0, width - 1) + '…' : line;
        };
        const spinner = ora({
          text: fitWidth(initial),
          stream: stderr,
          color: colourEnabled() ? 'cyan' : false,
        }).start();
        return {
          step: (t) => {
            spinner.text = fitWidth(t);
          },
          succeed: (t) => void spinner.succeed(printableLines(t)),
          fail: (t) => void spinner.fail(printableLines(t)),
          stop: () => void spinner.stop(),
        };
      }
      stderr.write(printableLines(initial) + '\n');
      let last = initial;
      return {
        step: (t) => {
          if (t !== last) stderr.write(printableLines(t) + '\n');
          last = t;
        },
        succeed: (t) => stderr.write(printableLines(t) + '\n'),
        fail: (t) => stderr.write(printableLines(t) + '\n'),
        stop: () => {},
      };
    },
  };
}

const silentProgress: Progress = { step() {}, succeed() {}, fail() {}, stop() {} };
