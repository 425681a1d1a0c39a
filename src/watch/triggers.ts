// What a file change means to `start --watch` (pure): whether it can change the image at all
// (the build context's rules, editor droppings and lambda-image's own state aside), and which
// of a project's functions it can change.
import path from 'node:path';
import { CONFIG_FILE, OWN_DIR } from '../config/constants.js';
import type { ProjectFunction } from '../config/functions.js';

/** Files that change what is built whatever .dockerignore says: the config, the Dockerfile, the ignore file itself. */
export const ALWAYS_WATCHED = [CONFIG_FILE, 'Dockerfile', '.dockerignore'] as const;

/** Folders whose changes never trigger a rebuild: version control, dependencies of other tools, lambda-image's own state. */
const NEVER_WATCHED_DIRS = ['.git', '.hg', '.svn', 'node_modules', OWN_DIR, '.idea', '.vscode'];

/** Whether a project-relative folder is (or is inside) one whose changes never trigger a rebuild. */
export function neverWatchedDir(rel: string): boolean {
  return rel.split('/').some((part) => NEVER_WATCHED_DIRS.includes(part));
}

/**
 * Temporary files editors and tools write while saving (vim's `.swp`/`.swx` and its `4913`
 * probe, `~` backups, emacs' `.#lock` and `#autosave#`, JetBrains' `___jb_tmp___`, gedit's
 * `.goutputstream-*`, `sed -i`'s `sedXXXXXX`, `.tmp`/`.crswap`): the save itself shows up as
 * the real file changing.
 */
export function isEditorTempFile(rel: string): boolean {
  const name = path.posix.basename(rel);
  return (
    name === '4913' ||
    name.endsWith('~') ||
    name.startsWith('.#') ||
    (name.startsWith('#') && name.endsWith('#')) ||
    /\.(sw[a-px]|tmp|temp|bak|crswap)$/i.test(name) ||
    /___jb_(tmp|old)___$/.test(name) ||
    /^sed[A-Za-z0-9]{6}$/.test(name) ||
    name.startsWith('.goutputstream-') ||
    name === '.DS_Store'
  );
}

/**
 * Whether a change to the project-relative path `rel` (posix) can change the image:
 * lambda-image.json, the Dockerfile and .dockerignore always can; editor temp files and
 * version-control, tool and lambda-image folders never do; anything else when it enters the
 * build context (`ignores`: the project's .dockerignore, as the build reads it).
 */
export function triggersRebuild(rel: string, ignores: (rel: string) => boolean): boolean {
  if (!rel || rel.startsWith('../') || path.posix.isAbsolute(rel)) return false;
  if ((ALWAYS_WATCHED as readonly string[]).includes(rel)) return true;
  if (neverWatchedDir(path.posix.dirname(rel))) return false;
  if (isEditorTempFile(rel)) return false;
  return !ignores(rel);
}

/** Files whose change concerns every function of a project (the module, its vendored code, the build's own files). */
const SHARED_ROOT_FILES = new Set<string>([...ALWAYS_WATCHED, 'go.mod', 'go.sum', 'go.work', 'go.work.sum']);

/**
 * The functions a set of changed files can change. A file directly in a function's own main
 * package folder (its `go.main`) changes that function only: a main package cannot be
 * imported, and only it can embed files of its folder. Anything else (shared packages,
 * subfolders, which other mains may import, go.mod, vendor/, the config, the Dockerfile,
 * .dockerignore, extensions) may change all of them. Function names in the project's order.
 */
export function functionsToRebuild(functions: ProjectFunction[], changed: Iterable<string>): string[] {
  const hit = new Set<string>();
  const mainDir = (f: ProjectFunction) => path.posix.normalize(f.config.go?.main ?? '.').replace(/^\.\/?|\/$/g, '');
  for (const rel of changed) {
    const dir = path.posix.dirname(rel) === '.' ? '' : path.posix.dirname(rel);
    const owners = SHARED_ROOT_FILES.has(rel) ? [] : functions.filter((f) => mainDir(f) === dir);
    if (!owners.length) return functions.map((f) => f.name);
    for (const f of owners) hit.add(f.name);
  }
  return functions.filter((f) => hit.has(f.name)).map((f) => f.name);
}
