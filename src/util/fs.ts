// File-system helpers shared by every command: atomic writes and existence checks.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { LambdaImageError } from '../errors.js';

/** Writes a file via a temporary sibling and a rename, so a crash never leaves half a file. */
export async function writeFileAtomic(path_: string, data: string | Buffer, mode = 0o644): Promise<void> {
  // Through a link (a config kept elsewhere and linked in): replace the file it points at, not the link.
  const file = await fs.realpath(path_).catch(() => path_);
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${randomBytes(4).toString('hex')}`);
  try {
    await fs.writeFile(tmp, data, { mode });
    await fs.chmod(tmp, mode);
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw ioError(err, `cannot write ${file}`);
  }
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
