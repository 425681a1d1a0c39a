// The command reference as data, read from the commander definitions themselves, and the
// Markdown it becomes in docs/commands/: the flag tables are generated, never written by
// hand, so `--help` and the docs cannot disagree (scripts/docs.mjs writes them, and
// test/docs.test.ts fails when a page is stale).
import type { Command, Option } from 'commander';

export interface FlagReference {
  flags: string;
  long?: string;
  description: string;
  defaultValue?: string;
  choices?: readonly string[];
  repeatable: boolean;
}

export interface CommandReference {
  /** The words after `lambda-image`: `build`, `extensions list`. */
  path: string;
  /** The page the command is documented on, relative to docs/commands/. */
  page: string;
  usage: string;
  description: string;
  flags: FlagReference[];
  examples: string[];
}

/** Examples shown after a command's --help (and on its page), keyed by the command's path. */
export const EXAMPLES_MARK = 'Examples:';

function flagOf(o: Option): FlagReference {
  const dv = o.defaultValue;
  return {
    flags: o.flags,
    long: o.long,
    description: o.description,
    defaultValue:
      dv === undefined || typeof dv === 'boolean' || (Array.isArray(dv) && !dv.length) ? undefined : String(dv),
    choices: o.argChoices,
    repeatable: /repeatable/.test(o.description),
  };
}

/** Examples a command carries (added with addExamples). */
export function examplesOf(cmd: Command): string[] {
  return ((cmd as unknown as { _lambdaImageExamples?: string[] })._lambdaImageExamples ?? []).slice();
}

/** Gives a command its examples: printed after its --help and kept for the docs. */
export function addExamples(cmd: Command, examples: string[]): Command {
  (cmd as unknown as { _lambdaImageExamples?: string[] })._lambdaImageExamples = examples;
  return cmd.addHelpText('after', `\n${EXAMPLES_MARK}\n${examples.map((e) => `  $ ${e}`).join('\n')}\n`);
}

/** Every command that runs something (groups such as `ci` are walked, not listed). */
export function commandReference(program: Command): CommandReference[] {
  const out: CommandReference[] = [];
  const walk = (cmd: Command, prefix: string[]) => {
    for (const sub of cmd.commands) {
      if ((sub as unknown as { _hidden?: boolean })._hidden) continue;
      const words = [...prefix, sub.name()];
      if (sub.commands.length) {
        walk(sub, words);
        continue;
      }
      out.push({
        path: words.join(' '),
        page: `${words[0]}.md`,
        usage: `lambda-image ${words.join(' ')} ${sub.usage()}`.trim(),
        description: sub.description(),
        flags: sub.options.filter((o) => !o.hidden).map(flagOf),
        examples: examplesOf(sub),
      });
    }
  };
  walk(program, []);
  return out;
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The generated part of one command's page: usage, flag table, examples. */
export function referenceMarkdown(ref: CommandReference): string {
  const lines = [`### \`lambda-image ${ref.path}\``, '', ref.description, '', '```', ref.usage, '```', ''];
  if (ref.flags.length) {
    lines.push('| flag | meaning | default | values |', '|---|---|---|---|');
    for (const f of ref.flags) {
      lines.push(
        `| \`${cell(f.flags)}\` | ${cell(f.description)} | ${f.defaultValue ? `\`${cell(f.defaultValue)}\`` : ''} | ${
          f.choices ? f.choices.map((c) => `\`${c}\``).join(', ') : ''
        } |`,
      );
    }
    lines.push('');
  }
  if (ref.examples.length) lines.push('Examples:', '', '```sh', ...ref.examples, '```', '');
  return lines.join('\n');
}

export const BEGIN = '<!-- generated from the commander definitions by scripts/docs.mjs: do not edit -->';
export const END = '<!-- end of generated reference -->';

/** A page with its generated block replaced (or added at its end): what the page must hold. */
export function withReference(page: string, refs: CommandReference[]): string {
  const block = `${BEGIN}\n\n${refs.map(referenceMarkdown).join('\n')}${END}`;
  const start = page.indexOf(BEGIN);
  const end = page.indexOf(END);
  if (start >= 0 && end > start) return page.slice(0, start) + block + page.slice(end + END.length);
  return `${page.trimEnd()}\n\n## Reference\n\n${block}\n`;
}
