// The project's .dockerignore, read with the engine's own matching rules, and the secret files
// that never belong in a build context (BuildKit's cache and the builder stage would keep them).
import path from 'node:path';
import dockerignoreModule from '@balena/dockerignore';
import { LAYERS_DIR, SECRET_PATTERNS } from '../config/constants.js';
import { readTextIfExists } from '../util/fs.js';

// A CommonJS module whose export is the factory itself (its typings say "default").
const createIgnore = dockerignoreModule as unknown as typeof dockerignoreModule.default;

export interface IgnoreRules {
  ignores(rel: string): boolean;
  /** Patterns after "!", which can bring back paths inside ignored folders. */
  negations: string[];
  /** Whether the project has a .dockerignore (else the secret patterns alone apply). */
  explicit: boolean;
}

export async function readDockerignore(dir: string): Promise<IgnoreRules> {
  const text = await readTextIfExists(path.join(dir, '.dockerignore'));
  // Without a .dockerignore the secret files still stay out; unpacked layers are AWS's, never the user's.
  const patterns =
    text === undefined
      ? [...SECRET_PATTERNS, `!${LAYERS_DIR}`]
      : text
          .split(/\r?\n/)
          .map((l) => l.trim())
          .filter((l) => l && !l.startsWith('#'));
  const ig = createIgnore({ ignorecase: false }).add(patterns);
  return {
    ignores: (rel) => ig.ignores(rel),
    negations: patterns.filter((p) => p.startsWith('!')).map((p) => p.slice(1).replace(/^\/+/, '')),
    explicit: text !== undefined,
  };
}

const secrets = createIgnore({ ignorecase: true }).add(SECRET_PATTERNS);

/** Whether a context-relative path is (or is inside) a usual secret file (unpacked layers, shipped by AWS, aside). */
export function isSecretFile(rel: string): boolean {
  return !rel.startsWith(`${LAYERS_DIR}/`) && secrets.ignores(rel);
}
