// Unpacking a layer zip safely: no entry may land outside the target (no "..", no absolute
// paths, no links pointing out, no writing through links), no special files, and a cap on
// the unpacked size. Executable bits are kept.
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32, createInflateRaw } from 'node:zlib';
import type { Entry, ZipFile } from 'yauzl';
import { LambdaImageError } from '../errors.js';
import { ioError } from '../util/fs.js';
import { chunkReleaser } from '../util/memory.js';

export interface UnzipLimits {
  /** Total unpacked bytes allowed. Lambda allows 250 MB unzipped for a function and its layers. */
  maxBytes: number;
  maxEntries: number;
}

export const DEFAULT_LIMITS: UnzipLimits = { maxBytes: 512 * 1024 * 1024, maxEntries: 50_000 };

export interface UnzipResult {
  files: number;
  bytes: number;
  /** Paths (posix, relative) of regular files, with their modes. */
  entries: Array<{ path: string; mode: number; size: number }>;
}

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;

function unsafe(zipName: string, what: string): LambdaImageError {
  return new LambdaImageError('UNSAFE_ARCHIVE', `${zipName} is unsafe: ${what}`, {
    hint: 'nothing was unpacked; get the layer from a source you trust, or rebuild the zip without such entries',
  });
}

/** Checks an entry name and returns its normalized relative path. */
export function safeEntryPath(name: string): string | undefined {
  if (name.includes('\0') || name.includes('\\')) return undefined;
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return undefined;
  const normalized = path.posix.normalize(name).replace(/\/+$/, '');
  if (normalized === '..' || normalized.startsWith('../') || normalized.split('/').includes('..')) return undefined;
  return normalized === '.' ? '' : normalized;
}

export async function unzipSafely(
  zipFile: string,
  target: string,
  limits: UnzipLimits = DEFAULT_LIMITS,
  signal?: AbortSignal,
): Promise<UnzipResult> {
  const yauzl = (await import('yauzl')).default;
  const zipName = path.basename(zipFile);
  const zip = await new Promise<ZipFile>((resolve, reject) =>
    yauzl.open(zipFile, { lazyEntries: true, autoClose: false, decodeStrings: false }, (err, z) =>
      err ? reject(err) : resolve(z!),
    ),
  ).catch((err: Error) => {
    throw new LambdaImageError('UNSAFE_ARCHIVE', `${zipName} is not a readable zip archive (${err.message})`, {
      hint: 'check that the file is a Lambda layer zip',
    });
  });

  const root = await fs
    .mkdir(target, { recursive: true })
    .then(() => fs.realpath(target))
    .catch((err) => {
      zip.close();
      throw ioError(err, `cannot create ${target}`);
    });
  const fd = await fs.open(zipFile, 'r');
  const result: UnzipResult = { files: 0, bytes: 0, entries: [] };
  let count = 0;
  const release = chunkReleaser(); // counts across entries: small files add up too

  const handle = async (entry: Entry): Promise<void> => {
    signal?.throwIfAborted();
    if (++count > limits.maxEntries) throw unsafe(zipName, `more than ${limits.maxEntries} entries`);
    // Names are decoded here, not by yauzl, so unsafe ones get our message rather than its.
    const name = (entry.fileName as unknown as Buffer).toString('utf8');
    const rel = safeEntryPath(name);
    if (rel === undefined) throw unsafe(zipName, `entry "${name}" would land outside the target directory`);
    if (rel === '') return;
    // Bit 0: the entry is encrypted (ZipCrypto or AES); its bytes would be unpacked as garbage.
    if (entry.generalPurposeBitFlag & 0x1) {
      throw new LambdaImageError(
        'UNSAFE_ARCHIVE',
        `${zipName} has an encrypted entry ("${rel}"); Lambda layers are never encrypted`,
        {
          hint: 'nothing was unpacked; make the zip again without a password (zip -r, without -e or -P)',
        },
      );
    }
    const madeOnUnix = entry.versionMadeBy >> 8 === 3;
    const unixMode = madeOnUnix ? (entry.externalFileAttributes >>> 16) & 0xffff : 0;
    const type = unixMode & S_IFMT;
    const isDir = name.endsWith('/') || type === S_IFDIR;
    const dest = path.join(root, rel);

    if (isDir) {
      const existing = await fs.lstat(dest).catch(() => undefined);
      if (existing && !existing.isDirectory())
        throw unsafe(
          zipName,
          `directory "${rel}" is also ${existing.isSymbolicLink() ? 'a link' : 'a file'} in the archive`,
        );
      if (!existing) {
        await fs.mkdir(path.dirname(dest), { recursive: true });
        await insideRoot(root, path.dirname(dest), rel, zipName);
        await fs.mkdir(dest, { recursive: true });
      }
      return;
    }
    if (type !== 0 && type !== S_IFREG && type !== S_IFLNK)
      throw unsafe(zipName, `entry "${rel}" is a special file (mode ${type.toString(8)})`);

    result.bytes += entry.uncompressedSize;
    if (result.bytes > limits.maxBytes)
      throw unsafe(zipName, `it unpacks to more than ${Math.round(limits.maxBytes / 1024 / 1024)} MiB`);

    await fs.mkdir(path.dirname(dest), { recursive: true });
    // A link inside the archive must not redirect later entries outside the target.
    const parent = await insideRoot(root, path.dirname(dest), rel, zipName);
    const target = path.join(parent, path.basename(dest));
    if (await fs.lstat(target).catch(() => undefined)) throw unsafe(zipName, `entry "${rel}" appears twice`);

    if (type === S_IFLNK && entry.uncompressedSize > MAX_LINK_TARGET)
      throw unsafe(zipName, `link "${rel}" has a ${entry.uncompressedSize}-byte target`);
    const stream = await entryStream(fd, entry, zipName);
    if (type === S_IFLNK) {
      const chunks: Buffer[] = [];
      await pipeline(stream, checkEntry(entry, rel, zipName), async (source: AsyncIterable<Buffer>) => {
        for await (const chunk of source) chunks.push(chunk);
      });
      const linkTarget = Buffer.concat(chunks).toString('utf8');
      checkLinkTarget(root, parent, rel, linkTarget, zipName);
      await fs.symlink(linkTarget, target);
      return;
    }
    const mode = unixMode & 0o777 || 0o644;
    await pipeline(
      stream,
      checkEntry(entry, rel, zipName, release),
      createWriteStream(target, { mode, flags: 'wx', highWaterMark: CHUNK }),
    );
    await fs.chmod(target, mode);
    result.files++;
    result.entries.push({ path: rel, mode, size: entry.uncompressedSize });
  };

  try {
    await walkEntries(zip, zipName, handle);
  } finally {
    zip.close();
    await fd.close();
  }
  return result;
}

const MAX_LINK_TARGET = 4096;

/** The real path of `dir`, which must be the target or inside it (links met on the way included). */
async function insideRoot(root: string, dir: string, rel: string, zipName: string): Promise<string> {
  const real = await fs.realpath(dir);
  if (real !== root && !real.startsWith(root + path.sep))
    throw unsafe(zipName, `entry "${rel}" would be written through a link`);
  return real;
}

/**
 * A link may point only inside the target, judged from its real folder. Its target may climb
 * ("..") only at its start: in "a/../b", "a" could be (or later become) a link, and ".." would
 * then leave from wherever "a" points. With that rule, and no entry ever replacing another,
 * every link resolves inside the target whatever other links the archive holds.
 */
export function checkLinkTarget(
  root: string,
  realParent: string,
  rel: string,
  linkTarget: string,
  zipName: string,
): void {
  const refuse = (why: string) => unsafe(zipName, `link "${rel}" ${why} (its target is "${linkTarget}")`);
  if (linkTarget === '' || linkTarget.includes('\0') || linkTarget.includes('\\'))
    throw refuse('has an unusable target');
  if (path.posix.isAbsolute(linkTarget)) throw refuse('is absolute (it would point outside the layer once under /opt)');
  const parts = linkTarget.split('/').filter((p) => p !== '' && p !== '.');
  const firstDown = parts.findIndex((p) => p !== '..');
  if (firstDown >= 0 && parts.slice(firstDown).includes('..'))
    throw refuse('climbs ("..") after descending; its destination would depend on other links');
  const resolved = path.resolve(realParent, ...parts);
  if (resolved !== root && !resolved.startsWith(root + path.sep)) throw refuse('points outside the target');
}

/** Visits the entries one at a time; the first failure stops the walk. */
function walkEntries(zip: ZipFile, zipName: string, handle: (entry: Entry) => Promise<void>): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let failed = false;
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      reject(
        err instanceof LambdaImageError
          ? err
          : (err as NodeJS.ErrnoException).syscall // the disk, not the archive (read-only, full, permissions)
            ? ioError(err, `cannot unpack ${zipName}`)
            : new LambdaImageError('UNSAFE_ARCHIVE', `${zipName} could not be unpacked: ${(err as Error).message}`, {
                hint: 'nothing was kept; check that the file is an intact Lambda layer zip',
              }),
      );
    };
    zip.on('entry', (entry: Entry) => handle(entry).then(() => zip.readEntry(), fail));
    zip.on('end', () => !failed && resolve());
    zip.on('error', fail);
    zip.readEntry();
  });
}

// yauzl reads the central directory; the data is read here in large chunks, which makes
// unpacking about as fast as unzip(1) (yauzl's own streams read 16 KiB at a time).
const CHUNK = 256 * 1024;

async function entryStream(fd: fs.FileHandle, entry: Entry, zipName: string): Promise<NodeJS.ReadableStream> {
  if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
    throw unsafe(zipName, `an entry uses compression method ${entry.compressionMethod}, which Lambda layers do not`);
  }
  // No data at all (an empty stored file, as zip -r writes __init__.py): nothing to read.
  // A read stream cannot express an empty range (end = start - 1 is "out of range").
  if (entry.compressedSize === 0) return Readable.from([]);
  const header = Buffer.alloc(30);
  await fd.read(header, 0, 30, entry.relativeOffsetOfLocalHeader);
  if (header.readUInt32LE(0) !== 0x04034b50) throw unsafe(zipName, 'a local file header is damaged');
  const start = entry.relativeOffsetOfLocalHeader + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
  const raw = createReadStream('', {
    fd: fd.fd,
    start,
    end: start + entry.compressedSize - 1,
    highWaterMark: CHUNK,
    autoClose: false,
  });
  if (entry.compressionMethod === 0) return raw;
  return raw.pipe(createInflateRaw({ chunkSize: CHUNK }));
}

/** Counts and checksums an entry's bytes against the central directory (a lying header is caught). */
function checkEntry(entry: Entry, rel: string, zipName: string, release = chunkReleaser()): Transform {
  let size = 0;
  let crc = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      release(chunk.length);
      if (size > entry.uncompressedSize)
        return done(unsafe(zipName, `entry "${rel}" holds more than its declared ${entry.uncompressedSize} bytes`));
      crc = crc32(chunk, crc);
      done(null, chunk);
    },
    flush(done) {
      if (size !== entry.uncompressedSize)
        return done(unsafe(zipName, `entry "${rel}" holds ${size} bytes, not the declared ${entry.uncompressedSize}`));
      if (crc >>> 0 !== entry.crc32 >>> 0) return done(unsafe(zipName, `entry "${rel}" is corrupt (CRC mismatch)`));
      done();
    },
  });
}
