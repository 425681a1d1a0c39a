// Pushing a tagged image through the Engine API. The engine answers 200 before anything
// happened: success or failure is decided by the JSON stream, where an errorDetail line
// fails the push and the final `aux` line carries the manifest digest.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type Dockerode from 'dockerode';
import { LambdaImageError } from '../errors.js';
import { LineSplitter } from '../util/lines.js';
import { processAlive } from '../util/process.js';
import type { PushPlatform } from './image-store.js';

export interface PushLayerEvent {
  id: string;
  status: string;
  current?: number;
  total?: number;
}

export interface PushOutcome {
  digest?: string;
  /** Manifest size in bytes, as the engine reports it. */
  size?: number;
  error?: string;
  /** Layers the registry already had, and layers sent. */
  layersExisting: number;
  layersPushed: number;
}

interface PushLine {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  aux?: { Tag?: string; Digest?: string; Size?: number };
  error?: string;
  errorDetail?: { message?: string };
}

/** Reads the push stream line by line; pure, so the decisions are unit-tested. */
export class PushStreamParser {
  private readonly splitter = new LineSplitter((line) => this.line(line));
  private readonly outcome: PushOutcome = { layersExisting: 0, layersPushed: 0 };

  constructor(private readonly onLayer: (e: PushLayerEvent) => void = () => {}) {}

  push(chunk: Buffer | string): void {
    this.splitter.push(chunk);
  }

  end(): PushOutcome {
    this.splitter.end();
    return this.outcome;
  }

  private line(text: string): void {
    if (!text.trim()) return;
    let msg: PushLine;
    try {
      msg = JSON.parse(text) as PushLine;
    } catch {
      return; // not JSON: a proxy's noise, never a decision
    }
    if (msg.errorDetail || msg.error) {
      this.outcome.error ??= msg.errorDetail?.message ?? msg.error ?? 'push failed';
      return;
    }
    if (msg.aux?.Digest) {
      this.outcome.digest = msg.aux.Digest;
      this.outcome.size = msg.aux.Size;
      return;
    }
    if (msg.id && msg.status) {
      if (msg.status === 'Layer already exists') this.outcome.layersExisting++;
      if (msg.status === 'Pushed') this.outcome.layersPushed++;
      this.onLayer({
        id: msg.id,
        status: msg.status,
        current: msg.progressDetail?.current,
        total: msg.progressDetail?.total,
      });
    }
  }
}

/** Where pushAs notes the temporary tag it makes, so a run killed before removing it is cleaned up by the next. */
export interface TempTagOptions {
  /** A directory for the notes (one file per push in progress). */
  recordDir?: string;
  /** The identity of this machine and pid namespace (see emulator/owners.ts): pids are only compared within it. */
  owner?: string;
  /** Ctrl-C: the push stops, the temporary tag goes, and the push fails with INTERRUPTED. */
  signal?: AbortSignal;
  /** Push only this platform's manifest (the containerd store: not the index with its attestations). */
  platform?: PushPlatform;
}

interface TagRecord {
  ref: string;
  imageId: string;
  pid: number;
  owner: string;
}

/**
 * Tags `localRef` as `repository:tag`, pushes it with the given registry login, and removes
 * that tag again, on success, failure and Ctrl-C alike: it was a means, not a result, so the
 * user's engine is left as it was (the image itself stays). A note of the tag is kept while
 * the push runs, so a run killed outright has its tag removed by the next push. Resolves
 * with the stream's verdict.
 */
export async function pushAs(
  docker: Dockerode,
  localRef: string,
  repository: string,
  tag: string,
  authconfig: object | undefined,
  onLayer?: (e: PushLayerEvent) => void,
  opts: TempTagOptions = {},
): Promise<PushOutcome> {
  const ref = `${repository}:${tag}`;
  if (opts.recordDir) await sweepTempTags(docker, opts.recordDir, opts.owner ?? '');
  if (opts.signal?.aborted) throw interruptedPush(ref);
  let note: string | undefined;
  if (opts.recordDir) {
    const imageId = ((await docker.getImage(localRef).inspect()) as { Id: string }).Id;
    note = await writeNote(opts.recordDir, { ref, imageId, pid: process.pid, owner: opts.owner ?? '' });
  }
  try {
    await docker.getImage(localRef).tag({ repo: repository, tag });
    if (opts.signal?.aborted) throw interruptedPush(ref);
    return await pushImage(docker, ref, authconfig, onLayer, opts.signal, opts.platform);
  } finally {
    await removeTag(docker, ref);
    if (note) await fs.rm(note, { force: true });
  }
}

function interruptedPush(ref: string): LambdaImageError {
  return new LambdaImageError(
    'INTERRUPTED',
    `interrupted: the push of ${ref} was stopped, and its temporary tag removed`,
    {
      hint: 'run the command again to push',
    },
  );
}

async function removeTag(docker: Dockerode, ref: string): Promise<void> {
  await docker
    .getImage(ref)
    .remove({ noprune: true })
    .catch(() => undefined);
}

async function writeNote(dir: string, record: TagRecord): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  const file = path.join(dir, `${record.pid}-${randomBytes(6).toString('hex')}.json`);
  await fs.writeFile(file, JSON.stringify(record));
  return file;
}

/**
 * Removes the temporary tags of pushes whose process is gone (same machine and pid namespace),
 * when the tag still names the image that run pushed; returns the tags removed. Best effort:
 * never the reason a push fails.
 */
export async function sweepTempTags(docker: Dockerode, dir: string, owner: string): Promise<string[]> {
  const removed: string[] = [];
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  for (const name of names.filter((n) => n.endsWith('.json')).slice(0, 1000)) {
    const file = path.join(dir, name);
    let record: TagRecord;
    try {
      record = JSON.parse(await fs.readFile(file, 'utf8')) as TagRecord;
    } catch {
      continue;
    }
    if (record.owner !== owner || !Number.isInteger(record.pid) || record.pid <= 0) continue;
    if (record.pid === process.pid || processAlive(record.pid)) continue;
    const current = (await docker
      .getImage(record.ref)
      .inspect()
      .catch(() => undefined)) as { Id?: string } | undefined;
    if (current?.Id === record.imageId) {
      await removeTag(docker, record.ref);
      removed.push(record.ref);
    }
    await fs.rm(file, { force: true });
  }
  return removed;
}

/** Pushes `ref` (already tagged on the engine) with the given registry login; resolves with the stream's verdict. */
export async function pushImage(
  docker: Dockerode,
  ref: string,
  authconfig: object | undefined,
  onLayer?: (e: PushLayerEvent) => void,
  signal?: AbortSignal,
  platform?: PushPlatform,
): Promise<PushOutcome> {
  let stream: NodeJS.ReadableStream;
  try {
    // An empty authconfig still sends X-Registry-Auth, which some engines need even for anonymous pushes.
    stream = (await docker.getImage(ref).push({
      authconfig: authconfig ?? {},
      ...(platform ? { platform: JSON.stringify(platform) } : {}),
    })) as NodeJS.ReadableStream;
  } catch (err) {
    throw new LambdaImageError(
      'PUSH_FAILED',
      `the engine refused to push ${ref}: ${(err as Error).message.split('\n')[0]}`,
      { cause: err },
    );
  }
  const parser = new PushStreamParser(onLayer);
  return new Promise<PushOutcome>((resolve, reject) => {
    // Ctrl-C: dropping the connection makes the engine cancel the push.
    const onAbort = () => {
      (stream as NodeJS.ReadableStream & { destroy(): void }).destroy();
      reject(interruptedPush(ref));
    };
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => signal?.removeEventListener('abort', onAbort);
    stream.on('data', (chunk: Buffer) => parser.push(chunk));
    stream.on('error', (err) => {
      done();
      reject(new LambdaImageError('PUSH_FAILED', `the push stream broke: ${err.message}`, { cause: err }));
    });
    stream.on('end', () => {
      done();
      resolve(parser.end());
    });
  });
}
