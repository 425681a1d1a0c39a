// Shell completion. The shell scripts are thin: each TAB runs `lambda-image __complete <words>`,
// and this module answers from the commander definitions themselves (commands, flags, which
// flags take a value, their choices) plus the project's function names, so completion can
// never drift from the CLI. `__files__` as the answer asks the shell for file names.
import type { Command, Option } from 'commander';
import { VARIANTS } from '../config/constants.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];
export const FILES = '__files__';

export interface CompletionSources {
  functionNames(): Promise<string[]>;
}

const visible = (cmd: Command) => !(cmd as unknown as { _hidden?: boolean })._hidden;
const takesValue = (o: Option) => o.required || o.optional;

function flagsOf(cmd: Command): Option[] {
  return cmd.options.filter((o) => !o.hidden);
}

/** The candidates for the last word of `words` (the words after `lambda-image`; the last may be empty). */
export async function completeWords(program: Command, words: string[], sources: CompletionSources): Promise<string[]> {
  const current = words.at(-1) ?? '';
  let node = program;
  let pendingValue: Option | undefined;
  for (const word of words.slice(0, -1)) {
    if (pendingValue) {
      pendingValue = undefined;
      continue;
    }
    if (word.startsWith('-')) {
      const option = word.includes('=') ? undefined : flagsOf(node).find((o) => o.long === word || o.short === word);
      if (option && takesValue(option)) pendingValue = option;
      continue;
    }
    const sub = node.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (sub) node = sub;
  }
  const startsWith = (list: readonly string[]) => list.filter((c) => c.startsWith(current));
  if (pendingValue) return valuesFor(pendingValue, current, sources);
  if (current.startsWith('-')) {
    const flags = flagsOf(node).flatMap((o) => [o.long, o.short].filter((f): f is string => Boolean(f)));
    return startsWith([...flags, '--help']);
  }
  const subs = node.commands.filter(visible).map((c) => c.name());
  if (subs.length) return startsWith(subs);
  return [FILES];
}

async function valuesFor(option: Option, current: string, sources: CompletionSources): Promise<string[]> {
  const long = option.long ?? '';
  if (option.argChoices) return option.argChoices.filter((c) => c.startsWith(current));
  if (long === '--function') return (await sources.functionNames()).filter((n) => n.startsWith(current));
  if (long === '--variants') {
    // A comma-separated list: complete its last item, keeping what comes before.
    const head = current.includes(',') ? current.slice(0, current.lastIndexOf(',') + 1) : '';
    const done = new Set(head.split(',').filter(Boolean));
    return VARIANTS.filter((v) => !done.has(v))
      .map((v) => head + v)
      .filter((c) => c.startsWith(current));
  }
  return [FILES];
}

/** The script a shell loads; it calls back into `lambda-image __complete`. */
export function completionScript(shell: Shell): string {
  switch (shell) {
    case 'bash':
      return `# lambda-image completion for bash: source this file, or put it in /etc/bash_completion.d/
_lambda_image_complete() {
  local IFS=$'\\n' cur="\${COMP_WORDS[COMP_CWORD]}" out
  out=$(lambda-image __complete "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) || return 0
  if [[ "$out" == "${FILES}" ]]; then
    COMPREPLY=($(compgen -f -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$out" -- "$cur"))
  fi
}
complete -o filenames -F _lambda_image_complete lambda-image
`;
    case 'zsh':
      return `#compdef lambda-image
# lambda-image completion for zsh: put this file in a folder of $fpath as _lambda-image, or source it.
_lambda_image() {
  local -a out
  out=("\${(@f)$(lambda-image __complete "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  if [[ "\${out[1]}" == "${FILES}" ]]; then
    _files
  else
    compadd -- "\${out[@]}"
  fi
}
if [[ "\${funcstack[1]}" == "_lambda-image" ]]; then
  _lambda_image "$@"
else
  compdef _lambda_image lambda-image
fi
`;
    case 'fish':
      return `# lambda-image completion for fish: save as ~/.config/fish/completions/lambda-image.fish
function __lambda_image_complete
    set -l words (commandline -opc) (commandline -ct)
    set -l out (lambda-image __complete $words[2..-1] 2>/dev/null)
    if test "$out[1]" = "${FILES}"
        __fish_complete_path (commandline -ct)
    else
        printf '%s\\n' $out
    end
end
complete -c lambda-image -f -a '(__lambda_image_complete)'
`;
  }
}
