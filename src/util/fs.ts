// File-system helpers shared by every command: atomic writes and existence checks.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { LambdaImageError } from '../errors.js';

export interface WriteOptions {
  /**
   * The folder the write must stay inside (the project, the repository, the cache): the file
   * and every folder on its way may be links, but none may lead outside it.
   */
  root: string;
  mode?: number;
  /** Create missing folders on the way (inside `root` only). */
  mkdir?: boolean;
}

/**
 * Writes a file via a temporary sibling and a rename, so a crash never leaves half a file.
 * The one rule for every file lambda-image writes: never through a link that leaves `root`.
 */
export async function writeFileAtomic(path_: string, data: string | Buffer, opts: WriteOptions): Promise<void> {
  const mode = opts.mode ?? 0o644;
  // Through a link inside the root (a config linked in from a sibling folder): replace the file it points at.
  const file = await resolveInside(opts.root, path_);
  if (opts.mkdir)
    await fs.mkdir(path.dirname(file), { recursive: true }).catch((err) => {
      throw ioError(err, `cannot create ${path.dirname(file)}`);
    });
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${randomBytes(4).toString('hex')}`);
  try {
    await fs.writeFile(tmp, data, { mode, flag: 'wx' });
    await fs.chmod(tmp, mode);
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw ioError(err, `cannot write ${file}`);
  }
}

/**
 * Where a write of `file` would really land, refused when that is outside `root`: a link at
 * the file itself or at any folder on its way (the deepest existing one is resolved, so every
 * component is covered; folders that do not exist yet cannot be links).
 */
export async function resolveInside(root: string, file: string): Promise<string> {
  const realRoot = await fs.realpath(root).catch(() => path.resolve(root));
  const abs = path.resolve(file); // both relative to the working directory, as callers pass them
  const st = await fs.lstat(abs).catch(() => undefined);
  let real: string;
  if (st) {
    real = await fs.realpath(abs).catch(() => abs);
    if (st.isSymbolicLink() && real === abs) {
      // A dangling link: where it would create the file.
      const target = await fs.readlink(abs);
      real = path.resolve(await realDeepest(path.dirname(abs)), target);
      real = path.join(await realDeepest(path.dirname(real)), path.basename(real));
    }
  } else {
    real = path.join(await realDeepest(path.dirname(abs)), path.basename(abs));
  }
  if (real !== realRoot && !real.startsWith(realRoot + path.sep)) {
    throw new LambdaImageError(
      'INVALID_INPUT',
      `refusing to write ${abs}: a link leads it to ${real}, outside ${root}`,
      {
        hint: 'replace the link with a regular file or folder, or run in the folder the link points to',
      },
    );
  }
  return real;
}

/** The real path of a folder, resolved through its deepest existing ancestor (bounded by the path's depth). */
async function realDeepest(dir: string): Promise<string> {
  const rest: string[] = [];
  let d = dir;
  for (let i = 0; i < 4096; i++) {
    const real = await fs.realpath(d).catch(() => undefined);
    if (real) return path.join(real, ...rest.reverse());
    const up = path.dirname(d);
    if (up === d) break;
    rest.push(path.basename(d));
    d = up;
  }
  return dir;
}

export async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}

export async function readTextIfExists(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw ioError(err, `cannot read ${file}`);
  }
}

/** Turns a Node file-system error into a one-line error with a hint that fits its errno. */
export function ioError(err: unknown, what: string): LambdaImageError {
  const code = (err as NodeJS.ErrnoException)?.code;
  const hint =
    code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
      ? 'check that the directory is writable by you (or pick another directory)'
      : code === 'ENOSPC'
        ? 'free some disk space and try again'
        : undefined;
  return new LambdaImageError('IO_FAILED', `${what}: ${code ?? (err as Error)?.message ?? String(err)}`, {
    hint,
    cause: err,
  });
}
