// The watch's fast image: the image built from the rendered Dockerfile with one file replaced,
// made through the Engine API (archive upload into a created, never started, container of it,
// then commit) instead of a build. The file keeps the shipped file's owner, mode and time; the
// image keeps the shipped image's config (entrypoint, cmd, env, user, workdir) and gets a label
// that says what it is, so nothing ships it by mistake.
import { createHash } from 'node:crypto';
import type Dockerode from 'dockerode';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tarStream from 'tar-stream';
import { LambdaImageError } from '../errors.js';

/** Every fast image carries it: `build`, `push` and `deploy` never take such an image. */
export const DEV_IMAGE_LABEL = 'org.lambda-image.dev-loop';

interface Entry {
  header: tarStream.Header;
}

/** One base image (the last full build) and a container of it that each new binary is committed from. */
export interface FastImageMaker {
  readonly base: string;
  /** The sha256 of the file as the base has it: a compile giving the same bytes needs no new image. */
  readonly shippedSha256: string;
  /** Commits the base with the file replaced by `bytes`; returns the new image's ID. */
  commit(bytes: Buffer, repo: string, tag: string): Promise<string>;
  remove(): Promise<void>;
}

export async function fastImageMaker(docker: Dockerode, base: string, file: string): Promise<FastImageMaker> {
  // Created, never started: its file system is the image's, its config the image's. No labels
  // of its own: commit keeps the container's labels (merged, never removable), and an image
  // carrying this session's owner labels would hand them to every environment of it.
  const container = await docker.createContainer({ Image: base });
  let shipped: { dir: Entry; file: Entry; sha256: string };
  try {
    shipped = await shippedEntries(await container.getArchive({ path: path.posix.dirname(file) }), file);
  } catch (err) {
    await container.remove({ force: true }).catch(() => undefined);
    throw err;
  }
  return {
    base,
    shippedSha256: shipped.sha256,
    async commit(bytes, repo, tag) {
      const pack = tarStream.pack();
      // The folder first, with its shipped header: its time and mode stay as shipped.
      pack.entry({ ...shipped.dir.header });
      pack.entry({ ...shipped.file.header, size: bytes.length }, bytes);
      pack.finalize();
      await container.putArchive(pack as unknown as Readable, { path: path.posix.dirname(path.posix.dirname(file)) });
      const made = (await container.commit({
        repo,
        tag,
        pause: false,
        changes: `LABEL ${DEV_IMAGE_LABEL}=watch`,
      })) as { Id: string };
      return made.Id;
    },
    async remove() {
      await container.remove({ force: true }).catch(() => undefined);
    },
  };
}

/** The headers of the folder and the file as the shipped image has them (getArchive of the folder). */
async function shippedEntries(
  tar: NodeJS.ReadableStream,
  file: string,
): Promise<{ dir: Entry; file: Entry; sha256: string }> {
  const dirName = path.posix.basename(path.posix.dirname(file));
  const fileName = `${dirName}/${path.posix.basename(file)}`;
  const found: Record<string, Entry> = {};
  const hash = createHash('sha256');
  const extract = tarStream.extract();
  extract.on('entry', (header, stream, next) => {
    const name = header.name.replace(/\/$/, '');
    if (name === dirName || name === fileName) found[name] = { header: { ...header, name: header.name } };
    if (name === fileName) stream.on('data', (d) => hash.update(d as Buffer));
    stream.on('end', next);
    stream.resume();
  });
  await pipeline(tar as Readable, extract);
  const dir = found[dirName];
  const own = found[fileName];
  if (!dir || !own || own.header.type !== 'file')
    throw new LambdaImageError('BUILD_FAILED', `the built image has no file ${file} to replace`, {
      hint: 'start --watch --compile image builds the whole image on each change instead',
    });
  return { dir, file: own, sha256: hash.digest('hex') };
}

/** The bytes of the one file of a tar stream (what getArchive gives for a file path). */
export async function singleFile(tar: NodeJS.ReadableStream): Promise<Buffer> {
  const extract = tarStream.extract();
  let bytes: Buffer | undefined;
  extract.on('entry', (header, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (d) => chunks.push(d as Buffer));
    stream.on('end', () => {
      if (header.type === 'file' && !bytes) bytes = Buffer.concat(chunks);
      next();
    });
  });
  await pipeline(tar as Readable, extract);
  if (!bytes) throw new LambdaImageError('BUILD_FAILED', 'the compile wrote no binary');
  return bytes;
}
