// Finding a Go module's main packages (one Lambda function each), and naming them, for `init`.
// Reads .go files only: no Go toolchain needed, nothing is run.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { functionKeyProblem } from '../config/schema.js';
import { OWN_DIR } from '../config/constants.js';
import { LambdaImageError } from '../errors.js';

/** A main package: its folder relative to the module root (`.` or `cmd/orders`). */
export interface MainPackage {
  dir: string;
}

/** Folders walked at most: a module bigger than this is named with --function instead. */
const MAX_DIRS = 20_000;

/**
 * Every main package of the module in `root`, in path order. Skipped as the go command skips
 * them (vendor/, testdata/, folders starting with . or _), plus lambda-image's own folder and
 * nested modules (a folder with its own go.mod belongs to another module).
 */
export async function findMainPackages(root: string): Promise<MainPackage[]> {
  const found: MainPackage[] = [];
  const queue: string[] = ['.'];
  let walked = 0;
  while (queue.length) {
    const rel = queue.shift()!;
    if (++walked > MAX_DIRS)
      throw new LambdaImageError('INVALID_INPUT', `the module in ${root} has more than ${MAX_DIRS} folders to search`, {
        hint: 'name the functions with --function <name>=<dir> (repeatable)',
      });
    const abs = path.join(root, rel);
    const items = await fs.readdir(abs, { withFileTypes: true }).catch(() => []);
    items.sort((a, b) => (a.name < b.name ? -1 : 1));
    const goFiles: string[] = [];
    for (const item of items) {
      if (item.isDirectory()) {
        if (skippedDir(item.name, rel)) continue;
        const child = rel === '.' ? item.name : `${rel}/${item.name}`;
        const nested = await fs.stat(path.join(root, child, 'go.mod')).catch(() => undefined);
        if (!nested?.isFile()) queue.push(child);
      } else if (item.isFile() && item.name.endsWith('.go') && !item.name.endsWith('_test.go')) {
        goFiles.push(item.name);
      }
    }
    if (goFiles.length && (await isMainPackage(abs, goFiles))) found.push({ dir: rel });
  }
  return found.sort((a, b) => (a.dir < b.dir ? -1 : a.dir > b.dir ? 1 : 0));
}

function skippedDir(name: string, parent: string): boolean {
  if (name.startsWith('.') || name.startsWith('_') || name === 'testdata' || name === 'vendor') return true;
  return parent === '.' && (name === OWN_DIR || name === 'node_modules');
}

/** Go source without its comments (enough to read package clauses and top-level funcs). */
function withoutComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
}

/** A folder whose Go files say `package main` and one of which declares `func main()`. */
async function isMainPackage(dir: string, files: string[]): Promise<boolean> {
  let main = false;
  let funcMain = false;
  for (const name of files) {
    const src = withoutComments(await fs.readFile(path.join(dir, name), 'utf8').catch(() => ''));
    const pkg = /^\s*package\s+([A-Za-z_][A-Za-z0-9_]*)/m.exec(src)?.[1];
    if (pkg === undefined) continue;
    // A folder of another package (with a stray main in a build-tagged file) is not a function.
    if (pkg !== 'main') return false;
    main = true;
    if (/^func\s+main\s*\(\s*\)/m.test(src)) funcMain = true;
  }
  return main && funcMain;
}

/**
 * A function name from a main package's folder, as Go names its binary: the folder's last
 * element, or the one before it when that is a major version (`cmd/tool/v2` is `tool`); the
 * module folder's name for a main package at the root. Lower-cased, with what a function name
 * cannot hold (see FUNCTION_KEY) made `-`, and no separator at either end.
 */
export function functionNameFor(mainDir: string, moduleDirName: string): string {
  const parts = mainDir === '.' ? [moduleDirName] : mainDir.split('/');
  const last = parts.length > 1 && isVersionElement(parts.at(-1)!) ? parts.at(-2)! : parts.at(-1)!;
  const name = last
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    // Docker joins letters and digits with one `_`, two `__` or dashes: any other run becomes `-`.
    .replace(/[_-]+/g, (run) => (run === '_' || run === '__' || /^-+$/.test(run) ? run : '-'))
    .replace(/^[_-]+/, '')
    .slice(0, 64)
    .replace(/[_-]+$/, '');
  return name || 'function';
}

/** `v2`, `v3`...: a major version suffix, which the go command skips when naming a binary (not v0, v1). */
function isVersionElement(s: string): boolean {
  return /^v\d+$/.test(s) && s !== 'v1' && !s.startsWith('v0');
}

/** Names every main package; two that get one name are an error naming both and the fix. */
export function nameMainPackages(mains: MainPackage[], moduleDirName: string): Array<{ name: string; dir: string }> {
  const named = new Map<string, string>();
  for (const m of mains) {
    const name = functionNameFor(m.dir, moduleDirName);
    const other = named.get(name);
    if (other !== undefined)
      throw new LambdaImageError(
        'INVALID_INPUT',
        `main packages ${other} and ${m.dir} would both be function ${JSON.stringify(name)}`,
        {
          hint: `name each function yourself: --function ${name}=${other} --function ${name}-2=${m.dir} (repeat --function for every function)`,
        },
      );
    named.set(name, m.dir);
  }
  return [...named].map(([name, dir]) => ({ name, dir }));
}

/** Parses one --function <name>=<dir> (the dir as typed; checked by the caller). */
export function parseFunctionFlag(value: string): { name: string; dir: string } {
  const eq = value.indexOf('=');
  const name = eq < 0 ? '' : value.slice(0, eq);
  const dir = eq < 0 ? '' : value.slice(eq + 1);
  if (!name || !dir)
    throw new LambdaImageError('INVALID_INPUT', `--function ${value} is not <name>=<dir>`, {
      hint: 'for example: --function orders=./cmd/orders',
    });
  const problem = functionKeyProblem(name);
  if (problem)
    throw new LambdaImageError('INVALID_INPUT', `--function ${value}: ${problem}`, {
      hint: `for example: --function ${functionNameFor(dir.replace(/\/+$/, '') || '.', 'function')}=${dir}`,
    });
  return { name, dir };
}
