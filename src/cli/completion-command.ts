// `lambda-image completion <shell>` and the hidden `__complete` the scripts call on each TAB.
import { projectFunctionNames } from '../app/completion.js';
import type { Command } from 'commander';
import { completeWords, completionScript, type Shell } from './completion.js';

export async function runCompletion(shell: string): Promise<void> {
  process.stdout.write(completionScript(shell as Shell));
}

/** Answers one TAB: a candidate a line. */
export async function runComplete(program: Command, words: string[]): Promise<void> {
  const candidates = await completeWords(program, words.length ? words : [''], {
    functionNames: async () => projectFunctionNames(process.cwd()),
  });
  if (candidates.length) process.stdout.write(candidates.join('\n') + '\n');
}
