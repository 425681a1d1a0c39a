// Reading the user's Go project: go.mod (module path, Go version) and the main package.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { LambdaImageError } from '../errors.js';
import { insideProject, typedPath } from '../util/paths.js';
import { readTextIfExists } from '../util/fs.js';

export interface GoModule {
  module: string;
  /** The `go` directive, e.g. "1.23" or "1.23.4". */
  goVersion: string;
}

/** Parses the parts of go.mod that lambda-image needs. Pure; throws INVALID_INPUT on nonsense. */
export function parseGoMod(text: string, file = 'go.mod'): GoModule {
  const stripped = text.replace(/\/\/.*$/gm, '');
  const moduleMatch = /^\s*module\s+("?)([^\s"]+)\1\s*$/m.exec(stripped);
  if (!moduleMatch) {
    throw new LambdaImageError('INVALID_INPUT', `${file} has no "module" line`, {
      hint: 'run "go mod init <module-path>" to create a valid go.mod',
    });
  }
  const goMatch = /^\s*go\s+(\S+)\s*$/m.exec(stripped);
  if (!goMatch) {
    throw new LambdaImageError('INVALID_INPUT', `${file} has no "go" version line`, {
      hint: 'add a line such as "go 1.23" to go.mod, or pass --go-version',
    });
  }
  if (!/^\d+\.\d+(\.\d+)?$/.test(goMatch[1]!)) {
    throw new LambdaImageError('INVALID_INPUT', `${file} has an unusable go version "${goMatch[1]}"`, {
      hint: 'use a release version such as "go 1.23", or pass --go-version',
    });
  }
  return { module: moduleMatch[2]!, goVersion: goMatch[1]! };
}

export async function readGoModule(dir: string): Promise<GoModule> {
  const file = path.join(dir, 'go.mod');
  const text = await readTextIfExists(file);
  if (text === undefined) {
    throw new LambdaImageError('INVALID_INPUT', `no go.mod in ${path.resolve(dir)}`, {
      hint: 'run init in a Go module, or package a prebuilt binary with --runtime provided --binary <path>',
    });
  }
  return parseGoMod(text, file);
}

/** Checks that `main` (relative to dir) is a directory holding a Go `package main`. */
export async function checkMainPackage(dir: string, main: string): Promise<void> {
  const pkgDir = path.resolve(dir, main);
  const rel = path.relative(path.resolve(dir), pkgDir);
  if (rel.startsWith('..') || path.isAbsolute(rel)) {
    throw new LambdaImageError('INVALID_INPUT', `main package ${main} is outside ${dir}`, {
      hint: 'pass --main as a path inside the module, such as ./cmd/handler',
    });
  }
  let names: string[];
  try {
    names = await fs.readdir(pkgDir);
  } catch {
    throw new LambdaImageError('INVALID_INPUT', `main package directory ${main} does not exist`, {
      hint: 'pass --main <path> naming the directory of your "package main"',
    });
  }
  for (const name of names.filter((n) => n.endsWith('.go') && !n.endsWith('_test.go'))) {
    const src = await fs.readFile(path.join(pkgDir, name), 'utf8');
    if (/^\s*package\s+main\b/m.test(src.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, ''))) return;
  }
  throw new LambdaImageError('INVALID_INPUT', `no "package main" in ${main}`, {
    hint: 'pass --main <path> naming the directory of your "package main"',
  });
}

/**
 * Checks a prebuilt bootstrap binary: inside the project, a regular file, executable.
 * `binary` is a path as typed (relative to the working directory); returns it relative to the project.
 */
export async function checkBinary(dir: string, binary: string): Promise<string> {
  const abs = typedPath(binary);
  const rel = insideProject(
    dir,
    abs,
    `binary ${binary}`,
    typedHint(dir, binary, 'copy the binary into the project directory: it must be part of the Docker build context'),
  );
  let st: Awaited<ReturnType<typeof fs.stat>>;
  try {
    st = await fs.stat(abs);
  } catch {
    throw new LambdaImageError('INVALID_INPUT', `binary ${binary} does not exist`, {
      hint: 'build it first, or fix --binary',
    });
  }
  if (!st.isFile())
    throw new LambdaImageError('INVALID_INPUT', `binary ${binary} is not a file`, { hint: 'fix --binary' });
  if ((st.mode & 0o111) === 0) {
    throw new LambdaImageError('INVALID_INPUT', `binary ${binary} is not executable`, {
      hint: `run "chmod +x ${binary}"`,
    });
  }
  return rel.split(path.sep).join('/');
}

/** A hint for a typed path outside the project that was probably meant relative to it. */
export function typedHint(dir: string, typed: string, fallback: string): string {
  if (path.isAbsolute(typed) || path.resolve(dir) === path.resolve('.')) return fallback;
  const meant = path.join(dir, typed);
  return `paths you type are relative to the working directory: did you mean ${meant}? (${fallback})`;
}
