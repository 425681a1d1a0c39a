// lambda-image's own tree inside a project (.lambda-image/): the only place it ever deletes,
// checked again at the moment of deletion (real paths, no links), the lock that serialises
// edits of lambda-image.json, and staging folders that never outlive a failed run.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CONFIG_FILE, LAYERS_DIR, OWN_DIR } from '../config/constants.js';
import { LambdaImageError } from '../errors.js';
import { ioError } from '../util/fs.js';

/** Where unpacking happens before a layer is renamed into place (same file system, ignored by builds). */
export const STAGING_DIR = `${OWN_DIR}/tmp`;

function refuse(projectDir: string, rel: string, why: string): LambdaImageError {
  return new LambdaImageError('CONFIG_INVALID', `refusing to delete ${rel} in ${path.resolve(projectDir)}: ${why}`, {
    hint: `lambda-image only deletes inside ${LAYERS_DIR}/; fix "dir" in ${CONFIG_FILE}, and remove stray folders by hand`,
  });
}

/**
 * Resolves `rel` (a config path such as `.lambda-image/layers/x-1`) to a real folder directly
 * under the project's real `.lambda-image/layers/`, or throws. Neither `.lambda-image`,
 * `.lambda-image/layers` nor the folder itself may be a link: deleting through one could reach
 * anything. Returns undefined when the folder does not exist (nothing to delete).
 */
export async function ownLayerDir(projectDir: string, rel: string): Promise<string | undefined> {
  const parts = rel.split('/');
  const expected = LAYERS_DIR.split('/');
  if (
    parts.length !== expected.length + 1 ||
    expected.some((p, i) => parts[i] !== p) ||
    !/^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/.test(parts.at(-1)!)
  ) {
    throw refuse(projectDir, rel, `it is not a folder directly under ${LAYERS_DIR}/`);
  }
  const projectReal = await fs.realpath(projectDir).catch((err) => {
    throw ioError(err, `cannot read ${projectDir}`);
  });
  let current = projectReal;
  for (const part of parts) {
    current = path.join(current, part);
    const st = await fs.lstat(current).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw ioError(err, `cannot read ${current}`);
    });
    if (!st) return undefined;
    if (st.isSymbolicLink()) throw refuse(projectDir, rel, `${path.relative(projectReal, current)} is a link`);
    if (!st.isDirectory()) throw refuse(projectDir, rel, `${path.relative(projectReal, current)} is not a folder`);
  }
  // Belt and braces: the real path must still be the one we walked (no link swapped in).
  const real = await fs.realpath(current);
  if (real !== current) throw refuse(projectDir, rel, 'its real path lies elsewhere');
  return real;
}

/** Deletes a layer folder of the project's own tree; refuses anything else (see ownLayerDir). */
export async function removeOwnLayerDir(projectDir: string, rel: string): Promise<void> {
  const dir = await ownLayerDir(projectDir, rel);
  if (!dir) return;
  await fs.rm(dir, { recursive: true, force: true }).catch((err) => {
    throw ioError(err, `cannot remove ${rel}`);
  });
}

export interface LockOptions {
  /** Called once when another run holds the lock and this one starts waiting. */
  onWait?(): void;
  /** Stops waiting (Ctrl-C); the signal's abort surfaces as an AbortError. */
  signal?: AbortSignal;
  /** How long to wait for another run, in ms (default a minute). */
  waitMs?: number;
}

/**
 * Runs `work` holding the project's config lock (`lambda-image.json.lock`, a folder made
 * atomically by proper-lockfile, refreshed while held, taken over when stale after a crash).
 * Other lambda-image runs wait for it; `work` must re-read the config inside.
 */
export async function withConfigLock<T>(
  projectDir: string,
  work: () => Promise<T>,
  opts: LockOptions = {},
): Promise<T> {
  const lockfile = (await import('proper-lockfile')).default;
  const file = path.join(projectDir, CONFIG_FILE);
  let compromised: Error | undefined;
  let release: (() => Promise<void>) | undefined;
  const deadline = Date.now() + (opts.waitMs ?? 60_000);
  // Our own bounded retry loop rather than the library's, so Ctrl-C ends the wait at once.
  for (let delay = 25; !release; delay = Math.min(delay * 1.5, 500)) {
    opts.signal?.throwIfAborted();
    try {
      release = await lockfile.lock(file, {
        stale: 10_000,
        onCompromised: (err) => {
          compromised = err;
        },
      });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        throw new LambdaImageError('CONFIG_INVALID', `no ${CONFIG_FILE} in ${path.resolve(projectDir)}`, {
          hint: 'run "lambda-image init" in the function\'s directory first',
        });
      }
      if (code !== 'ELOCKED') throw ioError(err, `cannot lock ${file}`);
      if (Date.now() > deadline) {
        throw new LambdaImageError(
          'IO_FAILED',
          `${CONFIG_FILE} in ${path.resolve(projectDir)} stays locked by another lambda-image run`,
          {
            hint: `wait for it to finish; if none is running, remove ${CONFIG_FILE}.lock`,
            cause: err,
          },
        );
      }
      if (delay === 25) opts.onWait?.();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, delay * (0.5 + Math.random()));
        opts.signal?.addEventListener('abort', done, { once: true });
        function done() {
          clearTimeout(timer);
          opts.signal?.removeEventListener('abort', done);
          resolve();
        }
      });
    }
  }
  try {
    const result = await work();
    if (compromised) throw ioError(compromised, `the lock on ${file} was lost while writing`);
    return result;
  } finally {
    await release().catch(() => undefined); // already released when compromised
  }
}

/** A fresh staging folder inside `.lambda-image/tmp`, named after this process (see sweepStaging). */
export async function makeStagingDir(projectDir: string): Promise<string> {
  const root = path.join(projectDir, STAGING_DIR);
  await fs.mkdir(root, { recursive: true }).catch((err) => {
    throw ioError(err, `cannot create ${STAGING_DIR} in ${projectDir}`);
  });
  return path.join(root, `${stagingOwner()}-${randomBytes(4).toString('hex')}`);
}

/** Host and process id: a project shared between machines or containers has several pid spaces. */
function stagingOwner(): string {
  return `${os.hostname().replace(/[^A-Za-z0-9.-]/g, '_')}-${process.pid}`;
}

/** Removes staging folders left by runs on this host that were killed outright (their process is gone). */
export async function sweepStaging(projectDir: string): Promise<void> {
  const root = path.join(projectDir, STAGING_DIR);
  const names = await fs.readdir(root).catch(() => [] as string[]);
  const host = stagingOwner().replace(/-\d+$/, '');
  for (const name of names) {
    const m = /^(.+)-(\d+)-[0-9a-f]{8}(?:\.old)?$/.exec(name);
    const pid = Number(m?.[2]);
    if (!m || m[1] !== host || !pid || pid === process.pid || isAlive(pid)) continue;
    await fs.rm(path.join(root, name), { recursive: true, force: true }).catch(() => undefined);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes folders under .lambda-image/layers that the config does not record (left by a run
 * killed between its steps, or by older versions); call it holding the lock. Returns their names.
 */
export async function sweepUnrecorded(projectDir: string, recorded: string[]): Promise<string[]> {
  const names = await fs.readdir(path.join(projectDir, LAYERS_DIR)).catch(() => [] as string[]);
  const keep = new Set(recorded);
  const swept: string[] = [];
  for (const name of names) {
    const rel = `${LAYERS_DIR}/${name}`;
    if (keep.has(rel)) continue;
    const st = await fs.lstat(path.join(projectDir, rel)).catch(() => undefined);
    if (!st?.isDirectory()) continue; // only folders of ours; a stray file or link is left alone
    await removeOwnLayerDir(projectDir, rel);
    swept.push(rel);
  }
  return swept;
}

/** Removes `.lambda-image/tmp` and `.lambda-image` when they are empty (a failed first add leaves nothing). */
export async function pruneEmptyOwnDirs(projectDir: string): Promise<void> {
  for (const rel of [STAGING_DIR, LAYERS_DIR, OWN_DIR]) {
    await fs.rmdir(path.join(projectDir, rel)).catch(() => undefined); // fails unless empty: fine
  }
}
