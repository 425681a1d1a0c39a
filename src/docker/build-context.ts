// The build context: the project's files minus what .dockerignore excludes, plus generated
// entries (the rendered Dockerfile, entry.sh, a local emulator binary), as one tar stream.
import { createReadStream, createWriteStream, promises as fs, type Stats } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-fs';
import { type IgnoreRules, isSecretFile, readDockerignore } from './dockerignore.js';

export interface GeneratedEntry {
  /** Path inside the context (posix). */
  name: string;
  mode: number;
  /** Inline content, or a file on disk to stream. */
  content?: string | Buffer;
  file?: string;
}

export interface ContextFiles {
  /** Context-relative paths of the project files that enter the context. */
  entries: string[];
  /** Bytes of those files. */
  bytes: number;
  /** Entries that look like credentials (.env, keys, .npmrc...) yet enter the context: the .dockerignore lets them in. */
  secrets: string[];
}

/** Whether a "!" pattern could bring back something inside an ignored folder (else it is skipped whole). */
export function mayReinclude(ig: IgnoreRules, rel: string): boolean {
  return ig.negations.some((n) => n.startsWith(rel + '/') || /^[*?[]/.test(n) || n.startsWith('**'));
}

/** Lists the project files that survive .dockerignore, without descending into ignored folders. */
export async function listContextFiles(dir: string, exclude: Set<string> = new Set()): Promise<ContextFiles> {
  const ig = await readDockerignore(dir);

  const entries: string[] = [];
  let bytes = 0;
  async function walk(rel: string): Promise<void> {
    const abs = rel ? path.join(dir, rel) : dir;
    const items = await fs.readdir(abs, { withFileTypes: true });
    items.sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const item of items) {
      const child = rel ? `${rel}/${item.name}` : item.name;
      const ignored = ig.ignores(child);
      if (item.isDirectory()) {
        if (!ignored || mayReinclude(ig, child)) await walk(child);
      } else if (!ignored && !exclude.has(child) && (item.isFile() || item.isSymbolicLink())) {
        entries.push(child);
        if (item.isFile()) bytes += (await fs.stat(path.join(dir, child))).size;
      }
    }
  }
  await walk('');
  return { entries, bytes, secrets: entries.filter(isSecretFile) };
}

export interface BuildContext {
  stream: Readable;
  files: ContextFiles;
  /** Resolves, once the stream has been read to its end, to the number of bytes sent. */
  sentBytes: Promise<number>;
}

/** Packs the project's files and the generated entries into a tar stream for the engine. */
/** `exclude`: project files that never enter the context whatever .dockerignore says (lambda-image's own state). */
export async function createBuildContext(
  dir: string,
  generated: GeneratedEntry[],
  exclude: string[] = [],
): Promise<BuildContext> {
  const files = await listContextFiles(dir, new Set([...generated.map((g) => g.name), ...exclude]));
  const sizes = new Map<string, Stats>();
  for (const g of generated) if (g.file) sizes.set(g.name, await fs.stat(g.file));

  const pack = tar.pack(dir, {
    entries: files.entries,
    // Fixed times and owners: what the final stage copies from the context (a prebuilt binary,
    // layer folders) carries no trace of the checkout or the machine (reproducible images).
    map: (header) => ({ ...header, mtime: CONTEXT_MTIME, uid: 0, gid: 0, uname: '', gname: '' }),
    finalize: false,
    finish: (p) => {
      void addGenerated(p, generated, sizes).then(
        () => p.finalize(),
        (err) => p.destroy(err),
      );
    },
  });
  return { ...counted(pack as unknown as Readable), files };
}

/** The stream as the engine reads it, and the bytes it read (counted in transform(), not with a 'data' listener, which would start the flow before the engine reads). */
function counted(source: Readable): { stream: Readable; sentBytes: Promise<number> } {
  let sent = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      sent += chunk.length;
      done(null, chunk);
    },
  });
  const sentBytes = new Promise<number>((resolve, reject) => {
    counter.on('end', () => resolve(sent));
    counter.on('error', reject);
  });
  sentBytes.catch(() => undefined); // a stopped build's context is destroyed; nobody waits then
  source.on('error', (err) => counter.destroy(err));
  counter.on('close', () => (source as Readable & { destroy(): void }).destroy());
  source.pipe(counter);
  return { stream: counter, sentBytes };
}

/**
 * A build context packed once (one snapshot of the project) and sent to several builds: each
 * `open()` streams the same tar from a file in the OS temp folder, which `remove()` deletes
 * (callers remove it in a finally: also on failure and Ctrl-C).
 */
export interface PackedContext {
  files: ContextFiles;
  /** The tar's size: what each build that reads it to its end is sent. */
  bytes: number;
  open(): { stream: Readable; sentBytes: Promise<number> };
  remove(): Promise<void>;
}

export async function packBuildContext(
  dir: string,
  generated: GeneratedEntry[],
  exclude: string[] = [],
): Promise<PackedContext> {
  const folder = await fs.mkdtemp(path.join(os.tmpdir(), 'lambda-image-context-'));
  const remove = () => fs.rm(folder, { recursive: true, force: true });
  try {
    const file = path.join(folder, 'context.tar');
    const context = await createBuildContext(dir, generated, exclude);
    await pipeline(context.stream, createWriteStream(file, { mode: 0o600 }));
    const bytes = await context.sentBytes;
    return { files: context.files, bytes, open: () => counted(createReadStream(file)), remove };
  } catch (err) {
    await remove();
    throw err;
  }
}

/** The time of every entry in the context (see docs/reproducible-images.md). */
const CONTEXT_MTIME = new Date(0);

type TarPack = Parameters<NonNullable<tar.PackOptions['finish']>>[0];

async function addGenerated(pack: TarPack, generated: GeneratedEntry[], sizes: Map<string, Stats>): Promise<void> {
  const mtime = new Date(0);
  for (const g of generated) {
    if (g.file) {
      const size = sizes.get(g.name)!.size;
      await new Promise<void>((resolve, reject) => {
        const entry = pack.entry({ name: g.name, mode: g.mode, size, mtime }, (err) => (err ? reject(err) : resolve()));
        createReadStream(g.file!).on('error', reject).pipe(entry);
      });
    } else {
      await new Promise<void>((resolve, reject) =>
        pack.entry({ name: g.name, mode: g.mode, mtime }, g.content ?? '', (err) => (err ? reject(err) : resolve())),
      );
    }
  }
}
