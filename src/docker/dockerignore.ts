// The project's .dockerignore, read with the engine's own matching rules.
import path from 'node:path';
import dockerignoreModule from '@balena/dockerignore';
import { readTextIfExists } from '../util/fs.js';

// A CommonJS module whose export is the factory itself (its typings say "default").
const createIgnore = dockerignoreModule as unknown as typeof dockerignoreModule.default;

export interface IgnoreRules {
  ignores(rel: string): boolean;
  /** Patterns after "!", which can bring back paths inside ignored folders. */
  negations: string[];
}

export async function readDockerignore(dir: string): Promise<IgnoreRules> {
  const patterns = ((await readTextIfExists(path.join(dir, '.dockerignore'))) ?? '')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const ig = createIgnore({ ignorecase: false }).add(patterns);
  return {
    ignores: (rel) => ig.ignores(rel),
    negations: patterns.filter((p) => p.startsWith('!')).map((p) => p.slice(1).replace(/^\/+/, '')),
  };
}
