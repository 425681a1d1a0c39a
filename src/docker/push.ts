// Pushing a tagged image through the Engine API. The engine answers 200 before anything
// happened: success or failure is decided by the JSON stream, where an errorDetail line
// fails the push and the final `aux` line carries the manifest digest.
import type Dockerode from 'dockerode';
import { LambdaImageError } from '../errors.js';
import { LineSplitter } from '../util/lines.js';

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

/**
 * Tags `localRef` as `repository:tag`, pushes it with the given registry login, and removes
 * that tag again: it was a means, not a result, so the user's engine is left as it was (the
 * image itself stays). Resolves with the stream's verdict.
 */
export async function pushAs(
  docker: Dockerode,
  localRef: string,
  repository: string,
  tag: string,
  authconfig: object | undefined,
  onLayer?: (e: PushLayerEvent) => void,
): Promise<PushOutcome> {
  await docker.getImage(localRef).tag({ repo: repository, tag });
  try {
    return await pushImage(docker, `${repository}:${tag}`, authconfig, onLayer);
  } finally {
    await docker
      .getImage(`${repository}:${tag}`)
      .remove({ noprune: true })
      .catch(() => undefined);
  }
}

/** Pushes `ref` (already tagged on the engine) with the given registry login; resolves with the stream's verdict. */
export async function pushImage(
  docker: Dockerode,
  ref: string,
  authconfig: object | undefined,
  onLayer?: (e: PushLayerEvent) => void,
): Promise<PushOutcome> {
  let stream: NodeJS.ReadableStream;
  try {
    // An empty authconfig still sends X-Registry-Auth, which some engines need even for anonymous pushes.
    stream = (await docker.getImage(ref).push({ authconfig: authconfig ?? {} })) as NodeJS.ReadableStream;
  } catch (err) {
    throw new LambdaImageError(
      'PUSH_FAILED',
      `the engine refused to push ${ref}: ${(err as Error).message.split('\n')[0]}`,
      { cause: err },
    );
  }
  const parser = new PushStreamParser(onLayer);
  return new Promise<PushOutcome>((resolve, reject) => {
    stream.on('data', (chunk: Buffer) => parser.push(chunk));
    stream.on('error', (err) =>
      reject(new LambdaImageError('PUSH_FAILED', `the push stream broke: ${err.message}`, { cause: err })),
    );
    stream.on('end', () => resolve(parser.end()));
  });
}
