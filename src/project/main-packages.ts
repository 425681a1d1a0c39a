// Finding a Go module's main packages (one Lambda function each), and naming them, for `init`.
// Reads .go files only: no Go toolchain needed, nothing is run.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { functionKeyProblem } from '../config/schema.js';
import { OWN_DIR } from '../config/constants.js';
import { LambdaImageError } from '../errors.js';
import { type BuildTarget, describeTarget, goFileIncluded, lambdaTarget } from './build-constraints.js';

/** A main package: its folder relative to the module root (`.` or `cmd/orders`). */
export interface MainPackage {
  dir: string;
}

/** Folders walked at most: a module bigger than this is named with --function instead. */
const MAX_DIRS = 20_000;

/**
 * Every main package of the module in `root` that Lambda's build takes (`target`), in path
 * order. Skipped as the go command skips them (vendor/, testdata/, folders starting with . or
 * _), plus lambda-image's own folder and nested modules (a folder with its own go.mod belongs
 * to another module). A main package whose Go files the target's build constraints all leave
 * out (`//go:build tools`, `_windows.go`, `import "C"` with cgo off) is no function: its folder
 * is added to `skipped`, with why.
 */
export async function findMainPackages(
  root: string,
  target: BuildTarget = lambdaTarget('x86_64'),
  skipped: Array<{ dir: string; reason: string }> = [],
): Promise<MainPackage[]> {
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
      } else if (item.isFile() && isSourceName(item.name)) {
        goFiles.push(item.name);
      }
    }
    if (!goFiles.length) continue;
    const kind = await packageKind(abs, goFiles, target);
    if (kind.kind === 'main') found.push({ dir: rel });
    else if (kind.kind === 'excluded' && kind.mainAnyway) skipped.push({ dir: rel, reason: excludedReason(target) });
  }
  return found.sort((a, b) => (a.dir < b.dir ? -1 : a.dir > b.dir ? 1 : 0));
}

const isSourceName = (name: string) => name.endsWith('.go') && !name.endsWith('_test.go');

const excludedReason = (t: BuildTarget) =>
  `build constraints exclude all its Go files from the build for Lambda (${describeTarget(t)})`;

function skippedDir(name: string, parent: string): boolean {
  if (name.startsWith('.') || name.startsWith('_') || name === 'testdata' || name === 'vendor') return true;
  return parent === '.' && (name === OWN_DIR || name === 'node_modules');
}

/** Go source without its comments (enough to read package clauses and top-level funcs). */
function withoutComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
}

type PackageKind =
  | { kind: 'main' }
  | { kind: 'nomain' }
  | { kind: 'other'; name: string }
  | { kind: 'excluded'; mainAnyway: boolean }
  | { kind: 'empty' };

/**
 * What a folder's Go files make for the target: only the files its build takes count (file
 * name suffix, //go:build or // +build, import "C"), as for the go command. A main package says
 * `package main` in them and declares `func main()` in one. `excluded`: .go files, none taken
 * (`mainAnyway`: one of them says package main).
 */
async function packageKind(dir: string, files: string[], target: BuildTarget): Promise<PackageKind> {
  let main = false;
  let funcMain = false;
  let mainAnyway = false;
  let taken = 0;
  for (const name of files) {
    const src = await fs.readFile(path.join(dir, name), 'utf8').catch(() => '');
    const code = withoutComments(src);
    const pkg = /^\s*package\s+([A-Za-z_][A-Za-z0-9_]*)/m.exec(code)?.[1];
    if (pkg === undefined) continue;
    if (!goFileIncluded(name, src, target)) {
      if (pkg === 'main') mainAnyway = true;
      continue;
    }
    taken++;
    // A folder of another package (with a stray main in a file of the build) is not a function.
    if (pkg !== 'main') return { kind: 'other', name: pkg };
    main = true;
    if (/^func\s+main\s*\(\s*\)/m.test(code)) funcMain = true;
  }
  if (!taken) return mainAnyway ? { kind: 'excluded', mainAnyway } : { kind: 'empty' };
  return main && funcMain ? { kind: 'main' } : { kind: 'nomain' };
}

/**
 * Why `main` (relative to the module root `root`) is not a main package Lambda's build takes,
 * or undefined when it is: the check init's discovery makes, for a folder named by hand.
 */
export async function mainPackageProblem(root: string, main: string, target: BuildTarget): Promise<string | undefined> {
  const abs = path.resolve(root, main);
  const st = await fs.stat(abs).catch(() => undefined);
  if (!st) return `${main} does not exist`;
  if (!st.isDirectory()) return `${main} is not a folder`;
  // The engine gets the project's files only: a link out of it builds nothing there (exit 12).
  const [realRoot, realMain] = await Promise.all([fs.realpath(root), fs.realpath(abs)]);
  const rel = path.relative(realRoot, realMain);
  if (rel.startsWith('..') || path.isAbsolute(rel))
    return `${main} is a link to ${realMain}, outside the project: the build sees only the project's files`;
  const items = await fs.readdir(abs, { withFileTypes: true }).catch(() => []);
  const files = items
    .filter((i) => i.isFile() && isSourceName(i.name))
    .map((i) => i.name)
    .sort();
  if (!files.length) return `${main} holds no Go files`;
  const kind = await packageKind(abs, files, target);
  switch (kind.kind) {
    case 'main':
      return undefined;
    case 'other':
      return `no "package main" in ${main} (it is package ${kind.name})`;
    case 'nomain':
      return `${main} declares no func main()`;
    case 'excluded':
      return `${main}: ${excludedReason(target)}`;
    case 'empty':
      return `no "package main" in ${main}`;
  }
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
