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

export function createUi(opts: { quiet?: boolean } = {}): Ui {
  const stderr = process.stderr;
  return {
    out: (line) => process.stdout.write(line + '\n'),
    warn: (line) => stderr.write(`warning: ${printable(line)}\n`),
    info: (line) => {
      if (!opts.quiet) stderr.write(printableLines(line) + '\n');
    },
    async progress(initial) {
      if (opts.quiet) return silentProgress;
      if (stderr.isTTY && !process.env.CI) {
        const { default: ora } = await import('ora');
        // One line, never wider than the terminal: a wrapped spinner line cannot be redrawn cleanly.
        const fitWidth = (t: string) => {
          const line = printable(t.replace(/\s+/g, ' '));
          const width = Math.max(20, (stderr.columns ?? 80) - 4);
          return line.length > width ? line.slice(0, width - 1) + '…' : line;
        };
        const spinner = ora({ text: fitWidth(initial), stream: stderr }).start();
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
